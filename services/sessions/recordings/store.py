"""SQL for recordings and the durable queues around them.

A recording row is written before LiveKit is asked anything and outlives its interview's erasure (no foreign key:
it names the objects that must be gone). Its status only moves forward: requested → active → complete | failed, and
any of them → erased. The row is also the egress queue: a requested row without an egress is due to be started,
and a row with `stop_pending` due to be stopped. `storage_deletions` is the queue of prefixes to erase from the
bucket, written in the transaction that erases what they belonged to.
"""

import uuid

import asyncpg
import msgspec

from libs.common.db import rows_affected

PREFIX = "recordings/"
"""Every recording's object lives under `PREFIX<interview id>/` (`prefix_of`, and the statements below)."""


def prefix_of(interview_id: uuid.UUID) -> str:
    """Where an interview's recordings live: its id alone (no name, no email, no Clerk id)."""
    return f"{PREFIX}{interview_id}/"


async def request_on_join(conn: asyncpg.Connection, room_name: str, clerk_id: str) -> bool:
    """Queue the recording of the interview in `room_name` if its candidate `clerk_id` joined it, its template
    version records and their recording consent stands now; at most one per interview, ever (a rejoin or a
    redelivered join changes nothing). Its object key is under `prefix_of` the interview, its name random. Whether
    one was queued now."""
    queued = await conn.fetchval(
        """INSERT INTO recordings (id, interview_id, room_name, object_key, status)
           SELECT $3, i.id, i.room_name, $5 || i.id || '/' || $4 || '.ogg', 'requested'
           FROM interviews i
           JOIN template_versions v ON v.template = i.template_id AND v.version = i.template_version AND v.recording
           WHERE i.room_name = $1 AND i.clerk_id = $2 AND i.status = 'active'
             AND consent_now(i.invite_id, i.clerk_id, 'recording')
           ON CONFLICT (interview_id) DO NOTHING
           RETURNING true""",
        room_name,
        clerk_id,
        uuid.uuid4(),
        uuid.uuid4().hex,
        PREFIX,
    )
    return bool(queued)


async def stop_with_interview(conn: asyncpg.Connection, room_name: str) -> None:
    """The interview in `room_name` ended: its running egress is to be stopped (the file then uploads)."""
    await conn.execute(
        """UPDATE recordings SET stop_pending = true, next_attempt_at = now()
           WHERE room_name = $1 AND status = 'active' AND egress_id IS NOT NULL AND egress_ended_at IS NULL""",
        room_name,
    )


class EgressWork(msgspec.Struct, frozen=True, kw_only=True):
    """A recording due for LiveKit: to start (requested, no egress yet) or to stop (`stop_pending`)."""

    id: uuid.UUID
    interview_id: uuid.UUID
    room_name: str
    object_key: str
    status: str
    egress_id: str | None
    stop_pending: bool
    attempts: int
    room_open: bool  # its interview is still active (a closed room is never worth starting in)


async def claim_egress_work(conn: asyncpg.Connection, limit: int, claim_seconds: float) -> list[EgressWork]:
    """Up to `limit` due recordings, each put off by `claim_seconds` so no other replica takes it meanwhile."""
    rows = await conn.fetch(
        """UPDATE recordings r SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE r.id IN (SELECT id FROM recordings
                          WHERE ((status = 'requested' AND egress_id IS NULL) OR stop_pending)
                            AND next_attempt_at <= now()
                          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING r.id, r.interview_id, r.room_name, r.object_key, r.status, r.egress_id, r.stop_pending,
                     r.attempts,
                     EXISTS (SELECT 1 FROM interviews i WHERE i.id = r.interview_id AND i.status = 'active')
                       AS room_open""",
        limit,
        claim_seconds,
    )
    return [EgressWork(**dict(row)) for row in rows]


async def egress_started(conn: asyncpg.Connection, recording_id: uuid.UUID, egress_id: str) -> None:
    """LiveKit took the start: the recording is active, unless it was erased meanwhile (then it is to be stopped)."""
    await conn.execute(
        """UPDATE recordings SET egress_id = $2, attempts = 0, last_event_at = now(), next_attempt_at = now(),
                  status = CASE WHEN status = 'requested' THEN 'active' ELSE status END,
                  stop_pending = (status = 'erased')
           WHERE id = $1""",
        recording_id,
        egress_id,
    )


async def egress_stopped(conn: asyncpg.Connection, recording_id: uuid.UUID) -> None:
    await conn.execute("UPDATE recordings SET stop_pending = false, attempts = 0 WHERE id = $1", recording_id)


async def never_started(conn: asyncpg.Connection, recording_id: uuid.UUID, error: str) -> None:
    """Its room closed before the recording could start: failed, nothing to stop."""
    await conn.execute(
        """UPDATE recordings SET status = 'failed', error = $2, last_event_at = now()
           WHERE id = $1 AND status = 'requested'""",
        recording_id,
        error,
    )


async def egress_failed(conn: asyncpg.Connection, recording_id: uuid.UUID, retry_after: float) -> None:
    await conn.execute(
        """UPDATE recordings SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
           WHERE id = $1""",
        recording_id,
        retry_after,
    )


class EgressReport(msgspec.Struct, frozen=True, kw_only=True):
    """What LiveKit said of an egress (a webhook's `egressInfo`, or `ListEgress`), reduced to what is kept."""

    egress_id: str
    room_name: str
    running: bool
    ended: bool
    succeeded: bool  # ended with a file
    duration_ms: int | None
    size: int | None
    error: str | None


_APPLY_REPORT = """
WITH found AS (
    SELECT id, status FROM recordings
    WHERE egress_id = $1 OR (egress_id IS NULL AND room_name = $2 AND status IN ('requested', 'erased'))
    ORDER BY egress_id IS NULL LIMIT 1 FOR UPDATE),
changed AS (
    UPDATE recordings r SET
        egress_id = COALESCE(r.egress_id, $1),
        last_event_at = now(),
        status = CASE
            WHEN r.status = 'erased' THEN 'erased'
            WHEN $4 AND $5 THEN 'complete'
            WHEN $4 THEN 'failed'
            WHEN $3 AND r.status = 'requested' THEN 'active'
            ELSE r.status END,
        duration_ms = CASE WHEN $4 AND $5 AND r.status <> 'erased' THEN $6 ELSE r.duration_ms END,
        size = CASE WHEN $4 AND $5 AND r.status <> 'erased' THEN $7 ELSE r.size END,
        error = CASE WHEN $4 AND NOT $5 THEN $8 ELSE r.error END,
        egress_ended_at = CASE WHEN $4 THEN now() END,
        stop_pending = r.stop_pending AND NOT $4
    FROM found WHERE r.id = found.id AND r.status NOT IN ('complete', 'failed') AND r.egress_ended_at IS NULL
    RETURNING r.interview_id, found.status AS before, r.status AS after)
SELECT interview_id, before, after FROM changed
"""


class AppliedReport(msgspec.Struct, frozen=True):
    interview_id: uuid.UUID
    before: str
    after: str


async def apply_report(conn: asyncpg.Connection, report: EgressReport) -> AppliedReport | None:
    """Move the recording forward as LiveKit reports its egress (never backwards: a late `egress_started` after
    `egress_ended` changes nothing, nor does a repeated end); None when no recording of ours moves."""
    row = await conn.fetchrow(
        _APPLY_REPORT,
        report.egress_id,
        report.room_name,
        report.running,
        report.ended,
        report.succeeded,
        report.duration_ms,
        report.size,
        report.error,
    )
    return None if row is None else AppliedReport(*row)


async def stale_egresses(conn: asyncpg.Connection, quiet_seconds: int, limit: int) -> list[str]:
    """Egresses of recordings not final whose last word from LiveKit is older than `quiet_seconds` (a webhook lost);
    each is put off as it is handed out, so replicas ask about different ones."""
    rows = await conn.fetch(
        """UPDATE recordings r SET last_event_at = now()
           WHERE r.id IN (SELECT id FROM recordings
                          WHERE egress_id IS NOT NULL AND egress_ended_at IS NULL AND NOT stop_pending
                            AND last_event_at < now() - make_interval(secs => $1)
                          ORDER BY last_event_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING r.egress_id""",
        quiet_seconds,
        limit,
    )
    return [row["egress_id"] for row in rows]


async def erase_recordings(conn: asyncpg.Connection, interview_ids: list[uuid.UUID], reason: str) -> int:
    """Inside the transaction that erases the interviews (or their candidate's consent): their recordings are
    erased (one still being made is to be stopped) and the deletion of everything under their prefixes is queued,
    once: erasing again queues nothing.
    An interview without a recording row has nothing in the bucket, nor ever will: the row is written before any
    egress is asked for. How many deletions were queued."""
    queued = await conn.execute(
        """WITH erased AS (
               UPDATE recordings SET status = 'erased', last_event_at = now(), next_attempt_at = now(),
                      stop_pending = egress_id IS NOT NULL AND status IN ('requested', 'active')
               WHERE interview_id = ANY($1::uuid[]) AND status <> 'erased'
               RETURNING interview_id)
           INSERT INTO storage_deletions (object_prefix, reason)
           SELECT $3 || interview_id || '/', $2 FROM erased""",
        interview_ids,
        reason,
        PREFIX,
    )
    return rows_affected(queued)


async def queue_deletion(conn: asyncpg.Connection, interview_id: uuid.UUID, reason: str) -> None:
    """A file landed for an erased recording (its egress ended after the erasure): its prefix goes again."""
    await conn.execute(
        "INSERT INTO storage_deletions (object_prefix, reason) VALUES ($1, $2)", prefix_of(interview_id), reason
    )


class Deletion(msgspec.Struct, frozen=True):
    id: int
    object_prefix: str
    attempts: int


async def claim_deletions(conn: asyncpg.Connection, limit: int, claim_seconds: float) -> list[Deletion]:
    rows = await conn.fetch(
        """UPDATE storage_deletions d SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE d.id IN (SELECT id FROM storage_deletions
                          WHERE deleted_at IS NULL AND next_attempt_at <= now()
                          ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING d.id, d.object_prefix, d.attempts""",
        limit,
        claim_seconds,
    )
    return [Deletion(*row) for row in rows]


async def deletion_done(conn: asyncpg.Connection, deletion_id: int, objects: int) -> None:
    await conn.execute(
        "UPDATE storage_deletions SET deleted_at = now(), deleted_objects = $2 WHERE id = $1", deletion_id, objects
    )


async def deletion_failed(conn: asyncpg.Connection, deletion_id: int, retry_after: float) -> None:
    await conn.execute(
        """UPDATE storage_deletions SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
           WHERE id = $1""",
        deletion_id,
        retry_after,
    )


async def pending_deletions(conn: asyncpg.Connection) -> tuple[int, float]:
    """How many deletions are queued and not done, and the age in seconds of the oldest (0 when none)."""
    row = await conn.fetchrow(
        """SELECT count(*) AS pending, COALESCE(extract(epoch FROM now() - min(queued_at)), 0) AS oldest
           FROM storage_deletions WHERE deleted_at IS NULL"""
    )
    assert row is not None
    return int(row["pending"]), float(row["oldest"])


class StoredRecording(msgspec.Struct, frozen=True):
    status: str
    object_key: str
    duration_ms: int | None
    size: int | None


async def recording_of(conn: asyncpg.Connection, interview_id: uuid.UUID) -> StoredRecording | None:
    row = await conn.fetchrow(
        "SELECT status, object_key, duration_ms, size FROM recordings WHERE interview_id = $1", interview_id
    )
    return None if row is None else StoredRecording(*row)
