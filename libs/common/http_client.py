"""The one outgoing HTTP client stack (aiohttp, which livekit-api runs on too), set up one way for every peer."""

from collections.abc import Mapping

import aiohttp


def client_session(
    *,
    timeout: float,
    connections: int = 32,
    headers: Mapping[str, str] | None = None,
    per_read: bool = False,
) -> aiohttp.ClientSession:
    """A session to one peer, opened for the app's (or a command's) life: keep-alive connections reused, at most
    `connections` at once, connecting bounded by a second (or `timeout` if shorter), no cookies kept.

    `timeout` bounds each whole request, or with `per_read` each wait for the peer's next bytes (a peer that
    answers slowly but steadily is then waited for; its callers bound the whole call themselves)."""
    connect = min(timeout, 1.0)
    bounds = (
        aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=timeout)
        if per_read
        else aiohttp.ClientTimeout(total=timeout, sock_connect=connect)
    )
    return aiohttp.ClientSession(
        headers=dict(headers or {}),
        connector=aiohttp.TCPConnector(limit=connections, keepalive_timeout=30),
        timeout=bounds,
        cookie_jar=aiohttp.DummyCookieJar(),
    )
