"""Completing pending profiles: a user stored from their id alone (Clerk was unreachable) is refreshed from
Clerk when they come back, without waiting for a webhook or the backfill."""

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from libs.common.background import Periodic, PeriodicRunner, periodic
from libs.common.db import Database, DatabaseUnavailable
from services.identity import store
from services.identity.clerk import ClerkClient, ClerkUnavailable
from services.identity.metrics import PENDING_REFRESHES

logger = logging.getLogger(__name__)


class RecentAsks:
    """Which users were asked about lately: `may_ask` says yes to a user at most once every `retry_seconds`,
    and remembers at most `limit` users. Once `limit` users were all asked within `retry_seconds`, the next one
    is told no (it stays pending, and its next start asks again): the bound holds whatever clients send, and no
    user is asked twice within `retry_seconds`. Entries are kept oldest first, so forgetting the expired ones
    costs only what is forgotten."""

    def __init__(self, retry_seconds: float, limit: int) -> None:
        self.retry_seconds = retry_seconds
        self.limit = limit
        self._asked_at: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._asked_at)

    def may_ask(self, clerk_id: str, now: float) -> bool:
        asked_at = self._asked_at
        if now - asked_at.get(clerk_id, float("-inf")) < self.retry_seconds:
            return False
        while asked_at and now - next(iter(asked_at.values())) >= self.retry_seconds:
            asked_at.popitem(last=False)
        if len(asked_at) >= self.limit:
            return False
        asked_at[clerk_id] = now
        return True


class PendingProfiles:
    """`complete(clerk_id)` queues a refresh from Clerk, at most once every `RETRY_SECONDS` per user in this
    process (`RecentAsks`, remembering at most `MAX_REMEMBERED` users), and never delays the caller, who gets the
    pending row at once. The queue is worked in the background (`running()`, the app's lifespan resource), all
    queued users at once, as soon as one is queued; it holds at most `MAX_QUEUED` users (beyond that a user's next
    start queues them again). The write is the same guarded upsert as everywhere: a webhook that completed the
    profile meanwhile is not overwritten by older data."""

    RETRY_SECONDS = 10.0
    MAX_QUEUED = 1_000
    MAX_REMEMBERED = 10_000

    def __init__(self, database: Database, clerk: ClerkClient) -> None:
        self._database = database
        self._clerk = clerk
        self._recent = RecentAsks(self.RETRY_SECONDS, self.MAX_REMEMBERED)
        self._queued: set[str] = set()
        self._runner: PeriodicRunner | None = None

    def complete(self, clerk_id: str) -> None:
        if len(self._queued) >= self.MAX_QUEUED or not self._recent.may_ask(clerk_id, time.monotonic()):
            PENDING_REFRESHES.labels("throttled").inc()
            return
        PENDING_REFRESHES.labels("asked").inc()
        self._queued.add(clerk_id)
        if self._runner is not None:
            self._runner.wake()

    async def _refresh_queued(self) -> None:
        queued, self._queued = self._queued, set()
        results = await asyncio.gather(*(self._complete(clerk_id) for clerk_id in queued), return_exceptions=True)
        failures = [result for result in results if isinstance(result, Exception)]
        if failures:
            raise ExceptionGroup(f"{len(failures)} of {len(queued)} pending profile refreshes failed", failures)

    async def _complete(self, clerk_id: str) -> None:
        try:
            clerk_user = await self._clerk.get_user(clerk_id)
        except ClerkUnavailable:
            PENDING_REFRESHES.labels("clerk_unavailable").inc()
            return  # still unreachable: the next start asks again
        if clerk_user is None:
            return  # Clerk deleted the user; its user.deleted webhook tombstones the row
        try:
            async with self._database.connection() as conn:
                written = await store.upsert_profile(conn, clerk_user.to_profile(), "ensure")
        except DatabaseUnavailable:
            return
        PENDING_REFRESHES.labels("completed").inc()
        if written is not None:
            logger.info("completed the pending profile of %s from Clerk", clerk_id)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's life: work the queue (a round a second, and at once when a user is queued)."""
        task = Periodic(name="pending_profiles", run_round=self._refresh_queued, every_seconds=1.0)
        async with periodic("identity", task) as runner:
            self._runner = runner
            try:
                yield
            finally:
                self._runner = None
