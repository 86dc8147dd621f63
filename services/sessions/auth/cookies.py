"""The `__session` cookie: a request proved by it alone is served only when it demonstrably comes from the app."""

from typing import Any

from litestar.connection import ASGIConnection

from services.sessions.errors import CrossSiteRequest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site_cookie_request(
    connection: ASGIConnection[Any, Any, Any, Any], authorized_origins: frozenset[str]
) -> None:
    """A request that proves itself by the `__session` cookie alone could have been sent by any site the user
    visits (the browser attaches the cookie). It is served only when it demonstrably comes from the app:
    an `Origin` it sends must be an authorized one, and a write must carry an authorized `Origin` (when origins
    are configured) and a JSON body, which no cross-site form or simple request can send without a preflight.
    A read without `Origin` is a same-origin read (browsers omit it there) and changes nothing, so it passes.
    """
    origin = connection.headers.get("origin")
    if authorized_origins and origin is not None and origin not in authorized_origins:
        raise CrossSiteRequest("This origin may not use the session cookie; send the token as a Bearer header.")
    if connection.scope.get("method") in SAFE_METHODS:
        return
    if authorized_origins and origin is None:
        raise CrossSiteRequest("A write authenticated by the session cookie must send an authorized Origin.")
    media_type = connection.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise CrossSiteRequest("A write authenticated by the session cookie must send a JSON body.")
