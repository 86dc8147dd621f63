"""The interview reconciler: LiveKit does not guarantee webhook delivery (its notifier drops events older than
30 s), so interviews are checked against the rooms RoomService says exist.

One pass walks the interviews that need a look (active ones, and created ones whose token has expired) in
batches, asks ListRooms about each batch's rooms, and:
- an `active` interview whose room is gone is `ended` (its leave or room_finished was lost);
- a `created` one past its token's expiry is `expired`, unless its room exists (the candidate joined and the
  join was lost: it becomes `active`);
- an `active` one older than `MAX_INTERVIEW_SECONDS` has its room deleted and is `ended`.
An `ended` one is counted, once, as with or without its agent's report when `AGENT_REPORT_GRACE_SECONDS` have
passed (agents upload after the room closes; one without a report by then points at a broken agent).
Every change is a guarded update, so replicas running passes at once do each change once. LiveKit or the
database unreachable ends the pass early; it is logged and counted, and the next pass tries again. A pass also
forgets applied webhook event ids older than a day (LiveKit never sends an event older than 30 s).
"""

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec

from libs.common.background import in_background
from libs.common.db import Database, DatabaseUnavailable
from services.sessions import report_store, store
from services.sessions.livekit_rooms import LiveKitRooms, LiveKitUnavailable
from services.sessions.metrics import (
    INTERVIEWS_ACTIVATED,
    INTERVIEWS_ENDED,
    INTERVIEWS_EXPIRED,
    INTERVIEWS_PAST_REPORT_GRACE,
    RECONCILER_CORRECTIONS,
    RECONCILER_DURATION,
    RECONCILER_RUNS,
)

logger = logging.getLogger(__name__)

BATCH = 500  # rooms per ListRooms call
WEBHOOK_EVENT_RETENTION_SECONDS = 86_400  # LiveKit never sends an event older than 30 s


class ReconcileReport(msgspec.Struct, kw_only=True):
    checked: int = 0
    ended_room_gone: int = 0
    activated_room_found: int = 0
    expired: int = 0
    ended_max_length: int = 0
    past_grace_with_report: int = 0
    past_grace_without_report: int = 0
    seconds: float = 0.0


async def _reconcile_batch(
    database: Database, rooms: LiveKitRooms, batch: list[store.OpenInterview], max_seconds: int, report: ReconcileReport
) -> None:
    live = await rooms.existing([interview.room_name for interview in batch])
    too_old = datetime.now(UTC) - timedelta(seconds=max_seconds)
    gone: list[uuid.UUID] = []
    found: list[uuid.UUID] = []
    stale: list[uuid.UUID] = []
    overdue: list[store.OpenInterview] = []
    for interview in batch:
        exists = interview.room_name in live
        if interview.status == "active" and not exists:
            gone.append(interview.id)
        elif interview.status == "active" and interview.started_at is not None and interview.started_at < too_old:
            overdue.append(interview)
        elif interview.status == "created":
            (found if exists else stale).append(interview.id)
    for interview in overdue:
        await rooms.delete(interview.room_name)
    async with database.connection() as conn:
        report.ended_room_gone += await store.move(conn, gone, before="active", after="ended")
        report.activated_room_found += await store.move(conn, found, before="created", after="active")
        report.expired += await store.move(conn, stale, before="created", after="expired")
        report.ended_max_length += await store.move(
            conn, [interview.id for interview in overdue], before="active", after="ended"
        )


async def reconcile_once(
    database: Database, rooms: LiveKitRooms, max_interview_seconds: int, report_grace_seconds: int
) -> ReconcileReport:
    """One pass over every open interview; raises LiveKitUnavailable or DatabaseUnavailable part-way."""
    started = time.perf_counter()
    report = ReconcileReport()
    after = None
    try:
        while True:
            async with database.connection() as conn:
                batch = await store.open_interviews(conn, after, BATCH)
            if not batch:
                break
            after = batch[-1].id
            report.checked += len(batch)
            await _reconcile_batch(database, rooms, batch, max_interview_seconds, report)
        async with database.connection() as conn:
            await store.prune_webhook_events(conn, WEBHOOK_EVENT_RETENTION_SECONDS, 10 * BATCH)
            with_report, without_report = await report_store.check_reports_past_grace(
                conn, report_grace_seconds, 10 * BATCH
            )
            report.past_grace_with_report, report.past_grace_without_report = with_report, without_report
    finally:
        _count(report)
        report.seconds = round(time.perf_counter() - started, 3)
        RECONCILER_DURATION.observe(report.seconds)
    return report


def _count(report: ReconcileReport) -> None:
    RECONCILER_CORRECTIONS.labels("room_gone").inc(report.ended_room_gone)
    RECONCILER_CORRECTIONS.labels("room_found").inc(report.activated_room_found)
    RECONCILER_CORRECTIONS.labels("max_length").inc(report.ended_max_length)
    INTERVIEWS_ENDED.inc(report.ended_room_gone + report.ended_max_length)
    INTERVIEWS_ACTIVATED.inc(report.activated_room_found)
    INTERVIEWS_EXPIRED.inc(report.expired)
    INTERVIEWS_PAST_REPORT_GRACE.labels("with_report").inc(report.past_grace_with_report)
    INTERVIEWS_PAST_REPORT_GRACE.labels("without_report").inc(report.past_grace_without_report)


async def reconcile_and_count(
    database: Database, rooms: LiveKitRooms, max_interview_seconds: int, report_grace_seconds: int
) -> bool:
    """One pass, its outcome logged and counted; False when LiveKit or the database could not be reached."""
    try:
        report = await reconcile_once(database, rooms, max_interview_seconds, report_grace_seconds)
    except LiveKitUnavailable as error:
        RECONCILER_RUNS.labels("livekit_unavailable").inc()
        logger.warning("interview reconciler: LiveKit is unavailable (%s); trying again next pass", error)
        return False
    except DatabaseUnavailable:
        RECONCILER_RUNS.labels("database_unavailable").inc()
        logger.warning("interview reconciler: the database is unavailable; trying again next pass")
        return False
    except Exception:  # a bug must not stop the loop for the process's life
        RECONCILER_RUNS.labels("error").inc()
        logger.exception("interview reconciler: the pass failed; trying again next pass")
        return False
    RECONCILER_RUNS.labels("ok").inc()
    changed = (
        report.ended_room_gone
        + report.activated_room_found
        + report.expired
        + report.ended_max_length
        + report.past_grace_with_report
        + report.past_grace_without_report
    )
    log = logger.info if changed else logger.debug
    log("interview reconciler: %s", msgspec.json.encode(report).decode())
    return True


@contextlib.asynccontextmanager
async def reconciling(
    database: Database, rooms: LiveKitRooms, every_seconds: int, max_interview_seconds: int, report_grace_seconds: int
) -> AsyncIterator[None]:
    """For the app's life: a pass every `every_seconds` (0: never), the first after a random part of one
    interval so replicas started together spread out."""
    if every_seconds <= 0:
        yield
        return

    async def loop() -> None:
        await asyncio.sleep(random.uniform(0, every_seconds))  # noqa: S311 (spreading, not security)
        while True:
            await reconcile_and_count(database, rooms, max_interview_seconds, report_grace_seconds)
            await asyncio.sleep(every_seconds)

    async with in_background(loop()):
        yield
