"""Joining concurrent calls that would do the same work, so it is done once per process."""

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """`run(key, work)`: callers that arrive while `work` for `key` is running wait for that run's result
    (or error) instead of starting another. The run belongs to no caller: one caller going away (a client
    disconnecting) does not cancel what the others wait on."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> tuple[V, bool]:
        """The result of the run for `key`, and whether this call started it (False: it joined one)."""
        task = self._running.get(key)
        started = task is None
        if task is None:
            task = asyncio.ensure_future(work())
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task), started

    def _finished(self, key: K, task: "asyncio.Task[V]") -> None:
        self._running.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so a run whose callers all left is not reported as unhandled
