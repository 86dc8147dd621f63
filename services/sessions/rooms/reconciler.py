"""The interview reconciler: LiveKit does not guarantee webhook delivery (its notifier drops events older than
30 s), so interviews are checked against the rooms RoomService says exist.

One pass walks the interviews that need a look (active ones, and created ones whose token has expired) in
batches, asks ListRooms about each batch's rooms, and:
- an `active` interview whose room is gone is `ended` (its leave or room_finished was lost);
- a `created` one past its token's expiry is `expired`, unless its room exists (the candidate joined and the
  join was lost: it becomes `active`);
- an `active` one older than `MAX_INTERVIEW_SECONDS` (or its template's `max_minutes`) has its room deleted and is
  `ended`.
An `ended` one is counted, once, as with or without its agent's report when `AGENT_REPORT_GRACE_SECONDS` have
passed (agents upload after the room closes; one without a report by then points at a broken agent).
Every change is a guarded update, so replicas running passes at once do each change once. LiveKit or the
database unreachable ends the pass early; it is logged and counted, and the next pass tries again. A pass also
forgets applied webhook event ids older than a day (LiveKit never sends an event older than 30 s).
"""

import contextlib
import logging
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import msgspec

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from libs.common.livekit_api import LiveKitUnavailable
from services.sessions.metrics import (
    INTERVIEWS_ACTIVATED,
    INTERVIEWS_ENDED,
    INTERVIEWS_EXPIRED,
    INTERVIEWS_PAST_REPORT_GRACE,
    RECONCILER_CORRECTIONS,
    RECONCILER_DURATION,
    RECONCILER_RUNS,
)
from services.sessions.rooms import reconciler_store
from services.sessions.rooms.room_service import LiveKitRooms

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
    database: Database,
    rooms: LiveKitRooms,
    batch: list[reconciler_store.OpenInterview],
    max_seconds: int,
    report: ReconcileReport,
) -> None:
    live = await rooms.existing([interview.room_name for interview in batch])
    now = datetime.now(UTC)
    gone: list[uuid.UUID] = []
    found: list[uuid.UUID] = []
    stale: list[uuid.UUID] = []
    overdue: list[reconciler_store.OpenInterview] = []
    for interview in batch:
        exists = interview.room_name in live
        if interview.status == "active" and not exists:
            gone.append(interview.id)
        elif interview.status == "active" and interview.started_at is not None:
            longest = min(interview.max_seconds or max_seconds, max_seconds)  # a template's max_minutes, if shorter
            if interview.started_at < now - timedelta(seconds=longest):
                overdue.append(interview)
        elif interview.status == "created":
            (found if exists else stale).append(interview.id)
    for interview in overdue:
        await rooms.delete(interview.room_name)
    async with database.connection() as conn:
        report.ended_room_gone += await reconciler_store.move(conn, gone, before="active", after="ended")
        report.activated_room_found += await reconciler_store.move(conn, found, before="created", after="active")
        report.expired += await reconciler_store.move(conn, stale, before="created", after="expired")
        report.ended_max_length += await reconciler_store.move(
            conn, [interview.id for interview in overdue], before="active", after="ended"
        )


async def reconcile_rooms(
    database: Database, rooms: LiveKitRooms, max_interview_seconds: int, report: ReconcileReport
) -> None:
    """Check every open interview against LiveKit's rooms; raises LiveKitUnavailable or DatabaseUnavailable
    part-way (every change made until then is kept)."""
    after = None
    while True:
        async with database.connection() as conn:
            batch = await reconciler_store.open_interviews(conn, after, BATCH)
        if not batch:
            return
        after = batch[-1].id
        report.checked += len(batch)
        await _reconcile_batch(database, rooms, batch, max_interview_seconds, report)


async def housekeeping(database: Database, report_grace_seconds: int, report: ReconcileReport) -> None:
    """What needs the database alone, so a LiveKit incident stops none of it: forget applied webhook ids older
    than a day, and count the interviews whose agent's grace period is over, with or without a report."""
    async with database.connection() as conn:
        await reconciler_store.prune_webhook_events(conn, WEBHOOK_EVENT_RETENTION_SECONDS, 10 * BATCH)
        with_report, without_report = await reconciler_store.check_reports_past_grace(
            conn, report_grace_seconds, 10 * BATCH
        )
    report.past_grace_with_report += with_report
    report.past_grace_without_report += without_report


async def reconcile_once(
    database: Database, rooms: LiveKitRooms, max_interview_seconds: int, report_grace_seconds: int
) -> ReconcileReport:
    """One pass of both (the `reconcile` command's): the housekeeping, then the rooms; raises LiveKitUnavailable
    or DatabaseUnavailable part-way."""
    report = ReconcileReport()
    with _counted(report):
        await housekeeping(database, report_grace_seconds, report)
        await reconcile_rooms(database, rooms, max_interview_seconds, report)
    return report


@contextlib.contextmanager
def _counted(report: ReconcileReport) -> Iterator[None]:
    """Count what the pass did, and how it ended (`sessions_reconciler_runs_total{outcome}`), however it ends."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except LiveKitUnavailable:
        outcome = "livekit_unavailable"
        raise
    except DatabaseUnavailable:
        outcome = "database_unavailable"
        raise
    finally:
        RECONCILER_RUNS.labels(outcome).inc()
        _count(report)
        report.seconds = round(time.perf_counter() - started, 3)
        RECONCILER_DURATION.observe(report.seconds)
        changed = sum(getattr(report, field) for field in CORRECTIONS)
        (logger.info if changed else logger.debug)("interview reconciler: %s", msgspec.json.encode(report).decode())


CORRECTIONS = (
    "ended_room_gone",
    "activated_room_found",
    "expired",
    "ended_max_length",
    "past_grace_with_report",
    "past_grace_without_report",
)


def _count(report: ReconcileReport) -> None:
    RECONCILER_CORRECTIONS.labels("room_gone").inc(report.ended_room_gone)
    RECONCILER_CORRECTIONS.labels("room_found").inc(report.activated_room_found)
    RECONCILER_CORRECTIONS.labels("max_length").inc(report.ended_max_length)
    INTERVIEWS_ENDED.inc(report.ended_room_gone + report.ended_max_length)
    INTERVIEWS_ACTIVATED.inc(report.activated_room_found)
    INTERVIEWS_EXPIRED.inc(report.expired)
    INTERVIEWS_PAST_REPORT_GRACE.labels("with_report").inc(report.past_grace_with_report)
    INTERVIEWS_PAST_REPORT_GRACE.labels("without_report").inc(report.past_grace_without_report)


def reconciler_tasks(
    database: Database, rooms: LiveKitRooms, every_seconds: int, max_interview_seconds: int, report_grace_seconds: int
) -> list[Periodic]:
    """The app's two background tasks, a round every `every_seconds` each (none when 0): the rooms' check against
    LiveKit (its first round after a random part of one interval, so replicas started together spread out), and
    the housekeeping, which needs the database alone."""
    if every_seconds <= 0:
        return []

    async def rooms_round() -> None:
        report = ReconcileReport()
        with _counted(report):
            await reconcile_rooms(database, rooms, max_interview_seconds, report)

    async def housekeeping_round() -> None:
        report = ReconcileReport()
        with _counted(report):
            await housekeeping(database, report_grace_seconds, report)

    outages = (LiveKitUnavailable, DatabaseUnavailable)
    return [
        Periodic(
            name="reconciler",
            run_round=rooms_round,
            every_seconds=every_seconds,
            first_after=random.uniform(0, every_seconds),  # noqa: S311 (spreading, not security)
            outages=outages,
        ),
        Periodic(name="housekeeping", run_round=housekeeping_round, every_seconds=every_seconds, outages=outages),
    ]
