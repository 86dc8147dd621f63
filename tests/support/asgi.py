"""Serve an app's lifespan from a task of its own, so fixtures can open it in setup and close it in teardown
(pytest-asyncio runs those in different tasks, which Litestar's anyio-based lifespan does not allow)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar


@asynccontextmanager
async def serve_in_process(app: Litestar, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield an httpx client that reaches it through ASGI on this event loop."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    owner = asyncio.create_task(hold_lifespan())
    await asyncio.wait([owner, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if owner.done():
        owner.result()  # start-up failed: raise its error here
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
            yield client
    finally:
        stop.set()
        await owner
