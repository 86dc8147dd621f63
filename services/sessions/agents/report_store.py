"""SQL for what an interview's agent reports: its transcript segments and its report. Both tables reference the
interview with `ON DELETE CASCADE`, so erasing a user's interviews erases these too."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec

from libs.common.db import NO_NUL

Milliseconds = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
MAX_SEGMENT_TEXT_BYTES = 8 * 1024


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    """One utterance: `seq` orders an interview's segments and identifies a segment across resends; the times
    are the agent's (milliseconds, from the start of the session or the epoch, as the agent counts them). `text`
    is at most 8 KiB in UTF-8 (so at most 8,192 characters, the bound stated here), without NUL."""

    seq: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
    speaker: Literal["agent", "candidate"]
    text: Annotated[str, msgspec.Meta(max_length=MAX_SEGMENT_TEXT_BYTES, pattern=NO_NUL)]
    started_at_ms: Milliseconds
    ended_at_ms: Milliseconds


class StoredReport(msgspec.Struct, frozen=True, kw_only=True):
    """The agent's report, always shown as the AI's (`author`): a person's decisions are kept apart from it."""

    version: int
    summary: str
    data: msgspec.Raw  # the agent's JSON, as stored (never decoded here)
    updated_at: datetime
    model: str | None = None  # what the agent says produced it
    prompt_version: str | None = None
    author: Literal["ai"] = "ai"


class WritableInterview(msgspec.Struct, frozen=True):
    room_name: str
    status: str
    ended_seconds_ago: float | None


async def lock_for_agent(conn: asyncpg.Connection, interview_id: uuid.UUID) -> WritableInterview | None:
    """The interview, share-locked until the transaction ends (an erasure waits for the write, or the write
    finds nothing); None if there is none."""
    row = await conn.fetchrow(
        """SELECT room_name, status, extract(epoch FROM now() - ended_at)::float8 AS ended_seconds_ago
           FROM interviews WHERE id = $1 FOR SHARE""",
        interview_id,
    )
    return None if row is None else WritableInterview(row["room_name"], row["status"], row["ended_seconds_ago"])


def _columns(segments: list[Segment]) -> tuple[list[Any], ...]:
    """The segments as five arrays, in `Segment`'s field order, for `unnest($2, ..., $6)`."""
    return tuple([getattr(segment, field) for segment in segments] for field in Segment.__struct_fields__)


async def add_segments(conn: asyncpg.Connection, interview_id: uuid.UUID, segments: list[Segment]) -> int:
    """Insert the segments whose `seq` is new for the interview; how many were."""
    inserted = await conn.fetch(
        """INSERT INTO transcript_segments AS s (interview, seq, speaker, text, started_at_ms, ended_at_ms)
           SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
           ON CONFLICT (interview, seq) DO NOTHING
           RETURNING s.seq""",
        interview_id,
        *_columns(segments),
    )
    return len(inserted)


async def conflicting_seqs(conn: asyncpg.Connection, interview_id: uuid.UUID, segments: list[Segment]) -> list[int]:
    """The `seq`s of `segments` stored with another speaker, text or times (seen after this transaction's insert,
    so a concurrent writer's committed segment counts too)."""
    rows = await conn.fetch(
        """SELECT i.seq FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
                  AS i (seq, speaker, text, started_at_ms, ended_at_ms)
           JOIN transcript_segments s ON s.interview = $1 AND s.seq = i.seq
           WHERE (s.speaker, s.text, s.started_at_ms, s.ended_at_ms)
                 IS DISTINCT FROM (i.speaker, i.text, i.started_at_ms, i.ended_at_ms)
           ORDER BY i.seq""",
        interview_id,
        *_columns(segments),
    )
    return [row["seq"] for row in rows]


async def count_segments(conn: asyncpg.Connection, interview_id: uuid.UUID) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM transcript_segments WHERE interview = $1", interview_id))


async def segments_after(
    conn: asyncpg.Connection, interview_id: uuid.UUID, after_seq: int | None, limit: int
) -> list[Segment]:
    """Segments in `seq` order, strictly after `after_seq` when given."""
    rows = await conn.fetch(
        """SELECT seq, speaker, text, started_at_ms, ended_at_ms FROM transcript_segments
           WHERE interview = $1 AND ($2::int IS NULL OR seq > $2) ORDER BY seq LIMIT $3""",
        interview_id,
        after_seq,
        limit,
    )
    return [Segment(**dict(row)) for row in rows]


class ReportContent(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    summary: str
    data: str  # encoded JSON
    model: str | None
    prompt_version: str | None


async def put_report(conn: asyncpg.Connection, interview_id: uuid.UUID, report: ReportContent) -> tuple[int, bool]:
    """Store the report unless one of `version` or higher is stored: the stored version, and whether this
    write stored it."""
    stored = await conn.fetchval(
        """INSERT INTO interview_reports AS r (interview, version, summary, data, model, prompt_version, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, now())
           ON CONFLICT (interview) DO UPDATE
           SET version = EXCLUDED.version, summary = EXCLUDED.summary, data = EXCLUDED.data,
               model = EXCLUDED.model, prompt_version = EXCLUDED.prompt_version, updated_at = now()
           WHERE r.version < EXCLUDED.version
           RETURNING r.version""",
        interview_id,
        report.version,
        report.summary,
        report.data,
        report.model,
        report.prompt_version,
    )
    if stored is not None:
        return int(stored), True
    kept = await conn.fetchval("SELECT version FROM interview_reports WHERE interview = $1", interview_id)
    return int(kept), False


async def report_of(conn: asyncpg.Connection, interview_id: uuid.UUID) -> tuple[StoredReport | None, int]:
    """The interview's report (None without one) and how many transcript segments it has, in one round trip."""
    row = await conn.fetchrow(
        """SELECT r.version, r.summary, r.data, r.updated_at, r.model, r.prompt_version,
                  (SELECT count(*) FROM transcript_segments s WHERE s.interview = $1) AS segments
           FROM (SELECT 1) AS one LEFT JOIN interview_reports r ON r.interview = $1""",
        interview_id,
    )
    assert row is not None
    report = None
    if row["version"] is not None:
        report = StoredReport(
            version=row["version"],
            summary=row["summary"],
            data=msgspec.Raw(row["data"].encode()),
            updated_at=row["updated_at"],
            model=row["model"],
            prompt_version=row["prompt_version"],
        )
    return report, int(row["segments"])
