"""An app served in the test's own process and event loop: its lifespan run by asgi-lifespan (the ASGI lifespan
protocol, as a server runs it), requests made through httpx's ASGI transport."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from litestar import Litestar


@asynccontextmanager
async def serve_in_process(app: Litestar, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield an httpx client that reaches it through ASGI on this event loop."""
    # The app itself, not `manager.app`: asgi-lifespan hands every request the same `scope["state"]` dict (the
    # ASGI spec asks for a shallow copy each), where Litestar caches a request's parsed headers, so the second
    # request would read the first one's. Our apps keep no lifespan state there.
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=60),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
    ):
        yield client
