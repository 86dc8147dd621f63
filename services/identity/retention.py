"""Delivery records (the svix-id dedupe) are kept `WEBHOOK_EVENTS_RETENTION_DAYS`, well past Svix's retry
window (about 28 hours), then pruned in small batches by the identity process itself.

A redelivery that arrives after its record is gone still changes nothing: the user row's guards refuse a
profile that is not newer, and a tombstone stays one.
"""

import asyncio
import logging

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from services.identity import store
from services.identity.metrics import WEBHOOK_EVENTS_PRUNED

logger = logging.getLogger(__name__)

PRUNE_BATCH = 1000  # rows per statement: short locks, never a long-running delete
PRUNE_EVERY_SECONDS = 3600


async def prune_delivery_records(database: Database, retention_days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete the records older than `retention_days`, `batch` rows at a time; how many were deleted.

    Safe on every replica at once: each batch skips rows another is deleting."""
    total = 0
    while True:
        async with database.connection() as conn:
            deleted = await store.prune_deliveries(conn, retention_days, batch)
        total += deleted
        WEBHOOK_EVENTS_PRUNED.inc(deleted)
        if deleted < batch:
            return total
        await asyncio.sleep(0)  # let requests in between batches


def pruning_task(database: Database, retention_days: int) -> Periodic:
    """Prune at start-up, then every hour (a failed round is logged and counted, and tried again sooner)."""

    async def prune_round() -> None:
        pruned = await prune_delivery_records(database, retention_days)
        if pruned:
            logger.info("pruned %d webhook delivery records older than %d days", pruned, retention_days)

    return Periodic(
        name="webhook_retention",
        run_round=prune_round,
        every_seconds=PRUNE_EVERY_SECONDS,
        outages=(DatabaseUnavailable,),
    )
