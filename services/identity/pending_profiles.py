"""Completing pending profiles: a user stored from their id alone (Clerk was unreachable) is refreshed from
Clerk when they come back, without waiting for a webhook or the backfill."""

import asyncio
import logging
import time
from types import TracebackType
from typing import Self

from libs.common.db import Database, DatabaseUnavailable
from services.identity import store
from services.identity.clerk import ClerkClient, ClerkUnavailable
from services.identity.metrics import PENDING_REFRESHES

logger = logging.getLogger(__name__)


class PendingProfiles:
    """`complete(clerk_id)` asks Clerk again in the background, at most once every `RETRY_SECONDS` per user
    in this process, and never delays the caller, who gets the pending row at once. The write is the same
    guarded upsert as everywhere: a webhook that completed the profile meanwhile is not overwritten by older
    data. Open for the app's life: leaving cancels what is still under way."""

    RETRY_SECONDS = 10.0

    def __init__(self, database: Database, clerk: ClerkClient) -> None:
        self._database = database
        self._clerk = clerk
        self._asked_at: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def complete(self, clerk_id: str) -> None:
        now = time.monotonic()
        if now - self._asked_at.get(clerk_id, float("-inf")) < self.RETRY_SECONDS:
            PENDING_REFRESHES.labels("throttled").inc()
            return
        PENDING_REFRESHES.labels("asked").inc()
        if len(self._asked_at) > 10_000:  # only recent attempts matter
            self._asked_at = {key: at for key, at in self._asked_at.items() if now - at < self.RETRY_SECONDS}
        self._asked_at[clerk_id] = now
        task = asyncio.create_task(self._complete(clerk_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
