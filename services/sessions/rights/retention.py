"""The retention task (every `RETENTION_RUN_SECONDS`; 0: never): interviews past their retention are erased as a
candidate's deletion erases them (tombstones `deleted_by: retention`), in batches of their own short transactions
that skip what another holds (a start never waits on one: starts lock no ended interview), and access records
older than `ACCESS_LOG_RETENTION_DAYS` go. Safe on every replica at once. `sessions_retention_lag_seconds` says how
far behind it is."""

import logging

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from services.sessions.metrics import ERASURES, RETENTION_LAG
from services.sessions.rights import erasure_store, retention_store

logger = logging.getLogger(__name__)

BATCH = 500


async def erase_past_retention(database: Database, plain_days: int | None) -> int:
    """Erase every interview past its retention, a batch a transaction; how many."""
    erased = 0
    while True:
        async with database.transaction() as conn:
            due = await retention_store.claim_past_retention(conn, plain_days, BATCH)
            if due:
                erased += await erasure_store.erase_interviews(conn, due, "retention")
        if len(due) < BATCH:
            break
    if erased:
        ERASURES.labels("retention").inc(erased)
        logger.info("retention erased %d interviews", erased)
    return erased


async def prune_access_log(database: Database, retention_days: int) -> int:
    pruned = 0
    while True:
        async with database.connection() as conn:
            deleted = await retention_store.prune_access_records(conn, retention_days, BATCH)
        pruned += deleted
        if deleted < BATCH:
            return pruned


async def retention_round(database: Database, plain_days: int | None, access_log_days: int) -> None:
    await erase_past_retention(database, plain_days)
    await prune_access_log(database, access_log_days)
    async with database.connection() as conn:
        RETENTION_LAG.set(await retention_store.retention_lag_seconds(conn, plain_days))


def retention_tasks(
    database: Database, every_seconds: int, plain_days: int | None, access_log_days: int
) -> list[Periodic]:
    if every_seconds <= 0:
        return []

    async def run_round() -> None:
        await retention_round(database, plain_days, access_log_days)

    return [
        Periodic(name="retention", run_round=run_round, every_seconds=every_seconds, outages=(DatabaseUnavailable,))
    ]
