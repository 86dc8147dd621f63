"""`/internal/*` needs a bearer token from a configured set (several, so tokens can be rotated)."""

import hmac
from collections.abc import Callable, Sequence

from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Receive, Scope, Send

from libs.common.headers import header


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer` header."""
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def internal_token_middleware(accepted_tokens: Sequence[str]) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware accepting a request with any of `accepted_tokens`, compared in constant time against every
    one of them; 401 otherwise. A middleware rather than a guard: it runs once per request, before the
    handler's parameters are resolved (a guard is called with a copy of the route handler)."""
    accepted = [token.encode() for token in accepted_tokens]

    def middleware(app: ASGIApp) -> ASGIApp:
        async def only_with_a_token(scope: Scope, receive: Receive, send: Send) -> None:
            presented = (bearer_token(scope) or "").encode()
            matches = [hmac.compare_digest(presented, token) for token in accepted]
            if not presented or not any(matches):
                raise NotAuthorizedException(
                    "A valid internal bearer token is required.",
                    headers={"WWW-Authenticate": 'Bearer realm="internal"'},
                )
            await app(scope, receive, send)

        return only_with_a_token

    return middleware
