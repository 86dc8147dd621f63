"""Erasing recordings from the bucket, durably: whatever erases an interview queues the deletion of its prefix in the
same transaction (`store.erase_recordings`), and every replica works the queue about once a second. A claimed
deletion is put off while it runs, so no other replica takes it; every version and delete marker under the prefix
goes (`RecordingStorage.delete_everything_under`), and the row records when. A store that fails is retried from
`STORAGE_DELETION_RETRY_SECONDS`, doubling, capped at an hour, however long the outage lasts: a deletion is never
given up. `sessions_storage_deletions_pending` and `_oldest_seconds` say how far behind the queue is."""

import asyncio
import logging

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from services.sessions.metrics import STORAGE_DELETIONS, STORAGE_DELETIONS_OLDEST, STORAGE_DELETIONS_PENDING
from services.sessions.recordings import store
from services.sessions.recordings.egress_queue import retry_delay
from services.sessions.recordings.storage import RecordingStorage, StorageUnavailable

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 200
AT_ONCE = 16  # deletions in flight against the store
CLAIM_SECONDS = 120.0  # longer than one prefix's listing and deletion may take
MAX_RETRY_SECONDS = 3600.0


async def _delete(
    database: Database,
    storage: RecordingStorage,
    deletion: store.Deletion,
    first_retry: float,
    slots: asyncio.Semaphore,
) -> bool:
    async with slots:
        try:
            objects = await storage.delete_everything_under(deletion.object_prefix)
        except StorageUnavailable as error:
            STORAGE_DELETIONS.labels("failed").inc()
            if deletion.attempts == 0:
                logger.warning(
                    "could not erase %s yet (%s); retrying until the store takes it", deletion.object_prefix, error
                )
            async with database.connection() as conn:
                await store.deletion_failed(
                    conn, deletion.id, retry_delay(first_retry, deletion.attempts, MAX_RETRY_SECONDS)
                )
            return False
    STORAGE_DELETIONS.labels("deleted").inc()
    async with database.connection() as conn:
        await store.deletion_done(conn, deletion.id, objects)
    return True


async def delete_due(database: Database, storage: RecordingStorage, first_retry: float) -> int:
    """One round: the due deletions, `AT_ONCE` at a time; how many were claimed. The gauges are set from the
    queue as it stands after the round."""
    async with database.connection() as conn:
        due = await store.claim_deletions(conn, BATCH, CLAIM_SECONDS)
    slots = asyncio.Semaphore(AT_ONCE)
    await asyncio.gather(*(_delete(database, storage, deletion, first_retry, slots) for deletion in due))
    async with database.connection() as conn:
        pending, oldest = await store.pending_deletions(conn)
    STORAGE_DELETIONS_PENDING.set(pending)
    STORAGE_DELETIONS_OLDEST.set(oldest)
    return len(due)


def deletions_task(database: Database, storage: RecordingStorage, first_retry: float) -> Periodic:
    """For the app's life: a round about once a second, at once again after a full batch."""

    async def deletions_round() -> float | None:
        return 0 if await delete_due(database, storage, first_retry) >= BATCH else None

    return Periodic(
        name="storage_deletions",
        run_round=deletions_round,
        every_seconds=POLL_SECONDS,
        outages=(DatabaseUnavailable, StorageUnavailable),
    )
