"""The guard on `/internal/*`: a bearer token from a configured set (several, so tokens can be rotated)."""

import hmac
from collections.abc import Sequence
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of an `Authorization: Bearer` header, read from the raw ASGI headers: building the request's
    header mapping cost a few per cent of every internal call."""
    for name, value in connection.scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return token.strip() or None
    return None


def internal_token_guard(accepted_tokens: Sequence[str]) -> Guard:
    """A guard accepting any of `accepted_tokens`, compared in constant time against every one of them."""
    accepted = [token.encode() for token in accepted_tokens]

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # async on purpose: Litestar runs a sync guard in a worker thread, on every request
        presented = (bearer_token(connection) or "").encode()
        matches = [hmac.compare_digest(presented, token) for token in accepted]
        if not presented or not any(matches):
            raise NotAuthorizedException(
                "A valid internal bearer token is required.",
                headers={"WWW-Authenticate": 'Bearer realm="internal"'},
            )

    return guard
