"""LiveKit's egress webhooks (`egress_started`, `egress_updated`, `egress_ended`) applied to recordings: verified
like every LiveKit webhook, idempotent on the event id, and never moving a recording backwards whatever order they
come in. An egress that ends after its recording was erased has just uploaded a file: its prefix is queued for
deletion again."""

import asyncpg
from livekit.api import WebhookEvent
from livekit.protocol.egress import EgressInfo, EgressStatus

from services.sessions.recordings import store
from services.sessions.recordings.egress import RUNNING

EGRESS_EVENTS = frozenset({"egress_started", "egress_updated", "egress_ended"})
_ENDED = frozenset(
    {
        EgressStatus.EGRESS_COMPLETE,
        EgressStatus.EGRESS_FAILED,
        EgressStatus.EGRESS_ABORTED,
        EgressStatus.EGRESS_LIMIT_REACHED,
    }
)
_ENDED_WITH_FILE = frozenset({EgressStatus.EGRESS_COMPLETE, EgressStatus.EGRESS_LIMIT_REACHED})


def report_of(info: EgressInfo) -> store.EgressReport:
    """What an `EgressInfo` says, in the recording's terms (LiveKit's `FileInfo.duration` is in nanoseconds)."""
    files = [file for file in info.file_results if file.size > 0] or ([info.file] if info.file.size > 0 else [])
    ended = info.status in _ENDED
    succeeded = ended and info.status in _ENDED_WITH_FILE and bool(files)
    return store.EgressReport(
        egress_id=info.egress_id,
        room_name=info.room_name,
        running=info.status in RUNNING,
        ended=ended,
        succeeded=succeeded,
        duration_ms=files[0].duration // 1_000_000 if succeeded else None,
        size=files[0].size if succeeded else None,
        error=None if succeeded else (info.error or EgressStatus.Name(info.status).lower())[:500],
    )


async def apply_report(conn: asyncpg.Connection, report: store.EgressReport) -> str:
    """Inside the caller's transaction: the recording moved (applied), or not (stale), or a file that landed
    after its recording was erased queued for deletion (erased)."""
    applied = await store.apply_report(conn, report)
    if applied is None:
        return "stale"
    if applied.after == "erased":
        if report.ended:
            await store.queue_deletion(conn, applied.interview_id, "landed_after_erasure")
        return "erased"
    return "applied"


async def apply_egress_event(conn: asyncpg.Connection, event: WebhookEvent) -> str:
    """Apply one verified egress event inside the caller's transaction: applied, stale, erased or duplicate."""
    fresh = await conn.fetchval(
        "INSERT INTO livekit_webhook_events (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", event.id
    )
    if not fresh:
        return "duplicate"
    return await apply_report(conn, report_of(event.egress_info))
