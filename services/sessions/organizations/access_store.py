"""SQL for who read what: one row per recruiter's read of an interview's detail, transcript or recording, written in
the request that read it, kept `ACCESS_LOG_RETENTION_DAYS` whatever happens to the interview (no foreign key)."""

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

What = Literal["detail", "transcript", "recording"]


class AccessRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    actor: str
    role: str
    interview_id: uuid.UUID
    what: What
    at: datetime


class Reader(msgspec.Struct, frozen=True):
    org_id: str
    actor: str
    role: str


async def record(conn: asyncpg.Connection, reader: Reader, interview_id: uuid.UUID, what: What) -> None:
    await conn.execute(
        "INSERT INTO access_records (org_id, actor, role, interview_id, what) VALUES ($1, $2, $3, $4, $5)",
        reader.org_id,
        reader.actor,
        reader.role,
        interview_id,
        what,
    )


async def has_reviewed(conn: asyncpg.Connection, org_id: str, actor: str, interview_id: uuid.UUID) -> bool:
    """Whether `actor` read the interview's transcript or fetched its recording (its detail does not count)."""
    found = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM access_records WHERE interview_id = $1 AND actor = $2 AND org_id = $3
                          AND what IN ('transcript', 'recording'))""",
        interview_id,
        actor,
        org_id,
    )
    return bool(found)


async def list_records(
    conn: asyncpg.Connection,
    org_id: str,
    *,
    interview_id: uuid.UUID | None,
    actor: str | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[AccessRecord]:
    """The organization's access records, newest first, after the keyset `before` (at, id)."""
    rows = await conn.fetch(
        """SELECT id, actor, role, interview_id, what, at FROM access_records
           WHERE org_id = $1 AND ($2::uuid IS NULL OR interview_id = $2) AND ($3::text IS NULL OR actor = $3)
             AND ($4::timestamptz IS NULL OR (at, id) < ($4, $5::bigint))
           ORDER BY at DESC, id DESC LIMIT $6""",
        org_id,
        interview_id,
        actor,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [AccessRecord(**dict(row)) for row in rows]
