"""Work that runs beside the requests for an app's life: every periodic task of both services (pruning,
reconciling, following feeds, completing profiles, removing participants) runs through `periodic`, which
survives any failure of a round; `in_background` runs a coroutine that needs no such care (the log writer)."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

from prometheus_client import Counter, Gauge

from libs.common.outage import Outage

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` as a task while the block runs; at its end, cancel the task and wait until it has stopped."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class BackgroundMetrics:
    """`<service>_background_failures_total{task}`, `_background_last_success_timestamp_seconds{task}` and
    `_background_interval_seconds{task}`: an alert compares the last success with the interval, so a task that
    stopped completing (whatever the reason) wakes a person."""

    _registered: ClassVar[dict[str, tuple[Counter, Gauge, Gauge]]] = {}

    def __init__(self, service: str) -> None:
        if service not in self._registered:  # one set per process, however many apps a test builds
            self._registered[service] = (
                Counter(
                    f"{service}_background_failures",
                    "Rounds of a background task that failed (each logged; the task goes on after a back-off).",
                    ["task"],
                ),
                Gauge(
                    f"{service}_background_last_success_timestamp_seconds",
                    "When a round of the background task last completed (Unix time; its start until then).",
                    ["task"],
                ),
                Gauge(f"{service}_background_interval_seconds", "How often the background task runs.", ["task"]),
            )
        self.failures, self.last_success, self.interval = self._registered[service]


@dataclass(frozen=True, kw_only=True)
class Periodic:
    """A background task: `run_round()` does one round and returns when the next is due (seconds; None:
    `every_seconds`). `outages` are the errors of an unreachable dependency: told as an outage (once after
    `quiet_failures` in a row, then once a minute, and when it ends), without a traceback. Any other error is a
    bug or a surprise: logged with its traceback. Either way the round is counted as failed, and the next one
    waits a back-off, doubling up to `max(every_seconds, MAX_BACKOFF_SECONDS)`."""

    name: str
    run_round: Callable[[], Awaitable[float | None]]
    every_seconds: float
    first_after: float = 0.0
    outages: tuple[type[BaseException], ...] = ()
    quiet_failures: int = 1  # outage rounds in a row before one is told (a peer still starting up stays quiet)

    MAX_BACKOFF_SECONDS: ClassVar[float] = 30.0


class PeriodicRunner:
    """Runs one `Periodic` until cancelled; `wake()` starts the next round now (work was queued)."""

    def __init__(self, service: str, task: Periodic) -> None:
        self.task = task
        self._metrics = BackgroundMetrics(service)
        self._woken = asyncio.Event()
        self._outage = Outage(logger, f"{task.name}: a dependency", quiet_failures=task.quiet_failures)

    def wake(self) -> None:
        self._woken.set()

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)  # let requests in between rounds
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        self._woken.clear()

    async def run(self) -> None:
        task, name = self.task, self.task.name
        self._metrics.interval.labels(name).set(task.every_seconds)
        self._metrics.last_success.labels(name).set(time.time())
        failed = 0
        await self._pause(task.first_after)
        while True:
            try:
                due = await task.run_round()
            except task.outages as error:
                failed += 1
                self._metrics.failures.labels(name).inc()
                self._outage.failed(str(error) or type(error).__name__)
            except Exception:
                failed += 1
                self._metrics.failures.labels(name).inc()
                logger.exception("background task %s: a round failed (%d in a row); it runs again", name, failed)
            else:
                failed = 0
                self._outage.succeeded()
                self._metrics.last_success.labels(name).set(time.time())
                await self._pause(task.every_seconds if due is None else due)
                continue
            ceiling = max(task.every_seconds, task.MAX_BACKOFF_SECONDS)
            await self._pause(min(ceiling, task.every_seconds * 2 ** (failed - 1)))


@contextlib.asynccontextmanager
async def periodic(service: str, task: Periodic) -> AsyncIterator[PeriodicRunner]:
    """Run `task` for the block's life (an app's lifespan resource); yields its runner (`wake()`)."""
    runner = PeriodicRunner(service, task)
    async with in_background(runner.run()):
        yield runner
