"""SQL for a person's decisions on an organization's interview: appended, newest first, never changed."""

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

Verdict = Literal["advance", "reject", "hold"]


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    decision: Verdict
    reason: str
    by: str  # the recruiter's Clerk id
    at: datetime


async def append(
    conn: asyncpg.Connection, interview_id: uuid.UUID, decision: Verdict, reason: str, by: str
) -> Decision:
    row = await conn.fetchrow(
        """INSERT INTO decisions (interview, decision, reason, decided_by) VALUES ($1, $2, $3, $4)
           RETURNING decision, reason, decided_by AS by, decided_at AS at""",
        interview_id,
        decision,
        reason,
        by,
    )
    assert row is not None
    return Decision(**dict(row))


async def decisions_on(conn: asyncpg.Connection, interview_id: uuid.UUID) -> list[Decision]:
    rows = await conn.fetch(
        """SELECT decision, reason, decided_by AS by, decided_at AS at FROM decisions WHERE interview = $1
           ORDER BY decided_at DESC, id DESC""",
        interview_id,
    )
    return [Decision(**dict(row)) for row in rows]
