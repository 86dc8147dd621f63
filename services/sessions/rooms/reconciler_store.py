"""SQL for the interview reconciler: the interviews to check against LiveKit's rooms, their corrections, and the
housekeeping (applied webhook ids forgotten, ended interviews counted with or without their agent's report)."""

import uuid
from datetime import datetime

import asyncpg
import msgspec

from libs.common.db import rows_affected


class OpenInterview(msgspec.Struct, frozen=True):
    id: uuid.UUID
    room_name: str
    status: str  # active, or created with its token expired
    started_at: datetime | None
    max_seconds: int | None  # its template's max_minutes; None: MAX_INTERVIEW_SECONDS


async def open_interviews(conn: asyncpg.Connection, after: uuid.UUID | None, limit: int) -> list[OpenInterview]:
    """Open interviews the reconciler must check (active ones, and created ones past their token's expiry),
    by id after `after`."""
    rows = await conn.fetch(
        """SELECT id, room_name, status, started_at, max_seconds FROM interviews
           WHERE (status = 'active' OR (status = 'created' AND token_expires_at < now()))
             AND ($1::uuid IS NULL OR id > $1)
           ORDER BY id LIMIT $2""",
        after,
        limit,
    )
    return [OpenInterview(*row) for row in rows]


async def move(conn: asyncpg.Connection, ids: list[uuid.UUID], *, before: str, after: str) -> int:
    """Move those of `ids` still in status `before` to `after` (ended: with its time); how many moved. Of
    replicas doing the same at once, each row is moved (and counted) by one."""
    if not ids:
        return 0
    # a rejoin may have renewed the token since the reconciler looked
    still_expired = " AND token_expires_at < now()" if after == "expired" else ""
    moved = await conn.fetch(
        f"""UPDATE interviews
           SET status = $3::text,
               started_at = CASE WHEN $3::text = 'active' THEN COALESCE(started_at, now()) ELSE started_at END,
               ended_at = CASE WHEN $3::text = 'ended' THEN COALESCE(ended_at, now()) ELSE ended_at END
           WHERE id = ANY($1::uuid[]) AND status = $2::text{still_expired}
           RETURNING id""",
        ids,
        before,
        after,
    )
    return len(moved)


async def prune_webhook_events(conn: asyncpg.Connection, older_than_seconds: int, batch: int) -> int:
    """Forget up to `batch` applied event ids older than `older_than_seconds`; how many."""
    result = await conn.execute(
        """DELETE FROM livekit_webhook_events WHERE id IN (
               SELECT id FROM livekit_webhook_events WHERE received_at < now() - make_interval(secs => $1)
               LIMIT $2 FOR UPDATE SKIP LOCKED)""",
        older_than_seconds,
        batch,
    )
    return rows_affected(result)


async def check_reports_past_grace(conn: asyncpg.Connection, grace_seconds: int, batch: int) -> tuple[int, int]:
    """Mark up to `batch` interviews that ended over `grace_seconds` ago and were not looked at yet; how many
    of them had a report and how many had none. Each interview is counted once, whichever replica marks it."""
    rows = await conn.fetch(
        """UPDATE interviews i SET report_checked = true
           WHERE i.id IN (SELECT id FROM interviews
                          WHERE status = 'ended' AND NOT report_checked
                            AND ended_at < now() - make_interval(secs => $1)
                          ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING EXISTS (SELECT 1 FROM interview_reports r WHERE r.interview = i.id) AS reported""",
        grace_seconds,
        batch,
    )
    with_report = sum(1 for row in rows if row["reported"])
    return with_report, len(rows) - with_report
