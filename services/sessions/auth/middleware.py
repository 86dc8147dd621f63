"""The authentication of every `/api/*` request: `request.user` is the caller's `ClerkSession`."""

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from libs.common.internal_auth import bearer_token
from libs.common.request_context import annotate_request
from services.sessions.auth.cookies import refuse_cross_site_cookie_request
from services.sessions.auth.tokens import SessionVerifier
from services.sessions.errors import InvalidSessionToken


class ClerkAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Every `/api/*` request carries a valid Clerk session; `request.user` is its `ClerkSession`.

    The `Authorization: Bearer` header wins over the `__session` cookie; a cookie-only request must also pass
    `refuse_cross_site_cookie_request`.
    """

    def __init__(self, app: Any, verifier: SessionVerifier, browser_origins: frozenset[str], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier
        self._browser_origins = browser_origins

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.scope)
        if token is None:
            token = connection.cookies.get("__session") or None
            if token is None:
                raise InvalidSessionToken("A Clerk session token is required (Authorization: Bearer or __session).")
            refuse_cross_site_cookie_request(connection, self._browser_origins)
        session = await self._verifier.verify(token)
        annotate_request(clerk_id=session.user_id)  # whose request this was, on its access line
        if session.organization is not None:
            annotate_request(org_id=session.organization.id)
        return AuthenticationResult(user=session, auth=None)
