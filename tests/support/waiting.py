"""Waiting for a condition with a deadline, never for a fixed time."""

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> bool:
    """Whether `condition()` became true within `within` seconds (checked every 50 ms)."""

    async def until_true() -> None:
        while True:
            if await condition():
                return
            await asyncio.sleep(0.05)

    try:
        async with asyncio.timeout(within):
            await until_true()
    except TimeoutError:
        return False
    return True
