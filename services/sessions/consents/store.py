"""SQL for consents: append-only rows per invite and candidate (`scope` ai_evaluation | recording, the template
version read, given or refused); the only change a row ever sees is its withdrawal (`withdrawn_at`). What a consent
is now is the newest row of its scope (`consent_now` in the migrations: given and not withdrawn)."""

import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

Scope = Literal["ai_evaluation", "recording"]


class Consent(msgspec.Struct, frozen=True, kw_only=True):
    scope: Scope
    template_version: int
    given: bool
    given_at: datetime
    withdrawn_at: datetime | None


class ConsentNow(msgspec.Struct, frozen=True):
    """The consents as they stand now, as the agent's brief carries them."""

    ai_evaluation: bool
    recording: bool


async def consents_of(conn: asyncpg.Connection, interview_id: uuid.UUID) -> list[Consent]:
    """The interview's candidate's consents given with its invite, oldest first (none for a plain interview)."""
    rows = await conn.fetch(
        """SELECT c.scope, c.template_version, c.given, c.given_at, c.withdrawn_at
           FROM interviews i JOIN consents c ON c.invite = i.invite_id AND c.clerk_id = i.clerk_id
           WHERE i.id = $1 ORDER BY c.id""",
        interview_id,
    )
    return [Consent(**dict(row)) for row in rows]


async def consent_now(conn: asyncpg.Connection, interview_id: uuid.UUID) -> ConsentNow:
    """As it stands now; an interview its candidate started on their own needs no consent to its AI (they asked
    for it) and is never recorded."""
    row = await conn.fetchrow(
        """SELECT i.invite_id IS NULL OR consent_now(i.invite_id, i.clerk_id, 'ai_evaluation') AS ai_evaluation,
                  i.invite_id IS NOT NULL AND consent_now(i.invite_id, i.clerk_id, 'recording') AS recording
           FROM interviews i WHERE i.id = $1""",
        interview_id,
    )
    return ConsentNow(False, False) if row is None else ConsentNow(row["ai_evaluation"], row["recording"])


async def withdraw(conn: asyncpg.Connection, interview_id: uuid.UUID, scope: Scope) -> None:
    """Mark the interview's candidate's given consents of `scope` withdrawn (again: no change)."""
    await conn.execute(
        """UPDATE consents c SET withdrawn_at = now()
           FROM interviews i
           WHERE i.id = $1 AND c.invite = i.invite_id AND c.clerk_id = i.clerk_id AND c.scope = $2 AND c.given
             AND c.withdrawn_at IS NULL""",
        interview_id,
        scope,
    )


async def hold_own_interview(conn: asyncpg.Connection, clerk_id: str, interview_id: uuid.UUID) -> bool:
    """Whether the interview is the caller's; its row locked to the end of the transaction if so."""
    owned = await conn.fetchval(
        "SELECT true FROM interviews WHERE id = $1 AND clerk_id = $2 FOR UPDATE", interview_id, clerk_id
    )
    return bool(owned)


async def erase_report(conn: asyncpg.Connection, interview_id: uuid.UUID) -> None:
    """The agent's report on the interview goes (its transcript stays: what was said, not the AI's judgement)."""
    await conn.execute("DELETE FROM interview_reports WHERE interview = $1", interview_id)
