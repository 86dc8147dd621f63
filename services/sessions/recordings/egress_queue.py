"""Recordings started and stopped through LiveKit's Egress, from the durable queue their rows are.

A candidate's join queues the recording in the transaction that records the join (the webhook is answered at once,
whatever LiveKit does next). Every replica runs the queue about once a second: it claims the due rows (each claim
puts the row off, so no other replica tries it meanwhile), asks LiveKit with no transaction open, and writes what
LiveKit answered. Before starting, it asks which egresses the room already has and adopts a running one, so a
start whose answer was lost (a crash, a timeout) never leaves a second egress. A start LiveKit refuses or cannot
take is retried from `EGRESS_RETRY_SECONDS`, doubling, capped at a minute, while the room is open; a room that
closed first fails the recording. An egress of an erased recording is stopped the same way.

Webhooks are lossy (LiveKit's notifier drops what it cannot deliver in 30 s): a recording not final whose egress
LiveKit has said nothing of for two minutes is looked up with `ListEgress` and applied as if its webhook had come.
"""

import asyncio
import logging

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from libs.common.livekit_api import LiveKitUnavailable
from services.sessions.metrics import EGRESS_CALLS, RECORDINGS
from services.sessions.recordings import store
from services.sessions.recordings.egress import RUNNING, LiveKitEgress
from services.sessions.recordings.events import apply_report, report_of

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH = 20
CLAIM_SECONDS = 30.0  # longer than an Egress call may take (LiveKitEgress' timeout)
MAX_RETRY_SECONDS = 60.0
QUIET_SECONDS = 120  # no word of an egress for this long: ask ListEgress
STALE_CHECK_SECONDS = 30.0


def retry_delay(first_seconds: float, attempts: int, cap: float = MAX_RETRY_SECONDS) -> float:
    """Seconds before another try after `attempts` failed ones: `first_seconds`, doubling, up to `cap`."""
    return float(min(cap, first_seconds * 2 ** min(attempts, 20)))


async def _started_egress(egress: LiveKitEgress, work: store.EgressWork) -> str:
    """The room's running egress if it has one (a start whose answer was lost), else a new one."""
    running = [info for info in await egress.of_room(work.room_name) if info.status in RUNNING]
    if running:
        return running[0].egress_id
    return (await egress.start(work.room_name, work.object_key)).egress_id


async def _handle(database: Database, egress: LiveKitEgress, work: store.EgressWork, first_retry: float) -> None:
    try:
        if work.stop_pending and work.egress_id:
            await egress.stop(work.egress_id)
            EGRESS_CALLS.labels("stopped").inc()
            async with database.connection() as conn:
                await store.egress_stopped(conn, work.id)
            return
        if not work.room_open:
            RECORDINGS.labels("failed").inc()
            async with database.connection() as conn:
                await store.never_started(conn, work.id, "the room closed before the recording started")
            return
        egress_id = await _started_egress(egress, work)
    except LiveKitUnavailable as error:
        EGRESS_CALLS.labels("failed").inc()
        if work.attempts == 0:
            logger.warning(
                "egress for interview %s failed (%s); retrying while LiveKit is down", work.interview_id, error
            )
        async with database.connection() as conn:
            await store.egress_failed(conn, work.id, retry_delay(first_retry, work.attempts))
        return
    EGRESS_CALLS.labels("started").inc()
    async with database.connection() as conn:
        await store.egress_started(conn, work.id, egress_id)


async def run_due(database: Database, egress: LiveKitEgress, first_retry: float) -> int:
    """One round: every due start and stop at once; how many were claimed."""
    async with database.connection() as conn:
        due = await store.claim_egress_work(conn, BATCH, CLAIM_SECONDS)
    await asyncio.gather(*(_handle(database, egress, work, first_retry) for work in due))
    return len(due)


async def check_stale(database: Database, egress: LiveKitEgress) -> int:
    """Ask LiveKit about egresses it has been quiet about, and apply what it says; how many were asked about.
    One LiveKit no longer knows has ended without a file we heard of."""
    async with database.connection() as conn:
        quiet = await store.stale_egresses(conn, QUIET_SECONDS, BATCH)
    for egress_id in quiet:
        info = await egress.find(egress_id)
        report = (
            report_of(info)
            if info is not None
            else store.EgressReport(
                egress_id=egress_id,
                room_name="",
                running=False,
                ended=True,
                succeeded=False,
                duration_ms=None,
                size=None,
                error="LiveKit no longer knows this egress",
            )
        )
        async with database.transaction() as conn:
            outcome = await apply_report(conn, report)
        RECORDINGS.labels(f"reconciled_{outcome}").inc()
    return len(quiet)


def egress_tasks(database: Database, egress: LiveKitEgress, first_retry: float) -> list[Periodic]:
    """For the app's life: the queue about once a second (at once again after a full batch), and the check of
    quiet egresses twice a minute."""

    async def queue_round() -> float | None:
        return 0 if await run_due(database, egress, first_retry) >= BATCH else None

    async def stale_round() -> None:
        await check_stale(database, egress)

    outages = (DatabaseUnavailable, LiveKitUnavailable)
    return [
        Periodic(name="egress", run_round=queue_round, every_seconds=POLL_SECONDS, outages=outages),
        Periodic(name="egress_check", run_round=stale_round, every_seconds=STALE_CHECK_SECONDS, outages=outages),
    ]
