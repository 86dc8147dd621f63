"""SQL for the interviews a user starts, rejoins, lists and reads. Status only moves forward (created → active →
ended, created → expired; an expired one whose candidate did join becomes active), so repeated and reordered
LiveKit events cannot move an interview back."""

import uuid
from datetime import datetime

import asyncpg
import msgspec

from services.sessions.users.known_store import KnownUser


class Interview(msgspec.Struct, frozen=True, kw_only=True):
    """An interview as its candidate sees it; an organization's (started by its invite) names the organization
    and the template version it pinned."""

    id: uuid.UUID
    room_name: str
    status: str
    agent_name: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    has_report: bool  # whether there is a report the candidate may read (read it with the interview)
    org_id: str | None = None
    template_id: uuid.UUID | None = None
    template_version: int | None = None


class NewInterview(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    clerk_id: str
    room_name: str
    agent_name: str | None
    token_expires_at: datetime


class Start(msgspec.Struct, frozen=True):
    """What a start did: `outcome` started | reused (the user's unused interview for that agent, handed back) |
    at_cap | unconfirmed (no recent answer about the user: ask identity) | deleted (the users' feed reported the
    user deleted); the name the user starts under, and the interview (started or reused) and its room."""

    outcome: str
    display_name: str | None
    interview_id: uuid.UUID | None
    room_name: str | None


# An organization's interview shows its candidate the report only if its template version shares it.
_HAS_REPORT = """EXISTS (SELECT 1 FROM interview_reports r WHERE r.interview = interviews.id)
    AND (interviews.template_id IS NULL OR EXISTS (
        SELECT 1 FROM template_versions v WHERE v.template = interviews.template_id
                                           AND v.version = interviews.template_version
                                           AND v.share_report_with_candidate)) AS has_report"""
_COLUMNS = ", ".join([*(field for field in Interview.__struct_fields__ if field != "has_report"), _HAS_REPORT])


def _interview(row: asyncpg.Record) -> Interview:
    return Interview(**{key: row[key] for key in Interview.__struct_fields__})


async def start_within_cap(
    conn: asyncpg.Connection,
    new: NewInterview,
    cap: int,
    user: KnownUser | None,
    *,
    reuse_seconds: int,
    feed_current_seconds: int,
) -> Start:
    """Insert `new`, for `user` as identity described them or, with no `user`, on identity's answer of the last
    `reuse_seconds` while the users' feed is current (an answer given just now is remembered), unless the user
    holds an unused interview for the same agent (it is handed back, its recorded expiry moved to `new`'s if
    that is later: otherwise nothing is written) or
    already `cap` open ones. Concurrent starts of one user queue on the user's lock, so they make one interview
    and cannot pass the cap together (the database function `start_interview` of the migrations, one round
    trip)."""
    row = await conn.fetchrow(
        """SELECT outcome, user_name, interview_id, room_name
           FROM start_interview($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        new.id,
        new.clerk_id,
        new.room_name,
        new.agent_name,
        new.token_expires_at,
        cap,
        user.user_id if user else None,
        user.display_name if user else None,
        user.answered_now if user else False,
        reuse_seconds,
        feed_current_seconds,
    )
    assert row is not None
    return Start(row["outcome"], row["user_name"], row["interview_id"], row["room_name"])


async def seconds_until_one_closes(conn: asyncpg.Connection, clerk_id: str) -> int | None:
    """When the first of `clerk_id`'s open, never-joined interviews expires (seconds), None if all are active."""
    seconds = await conn.fetchval(
        """SELECT ceil(extract(epoch FROM min(token_expires_at) - now())) FROM interviews
            WHERE clerk_id = $1 AND status = 'created' AND token_expires_at > now()""",
        clerk_id,
    )
    return None if seconds is None else max(1, int(seconds))


async def find_owned(
    conn: asyncpg.Connection, clerk_id: str, *, interview_id: uuid.UUID | None = None, room_name: str | None = None
) -> Interview | None:
    """One of `clerk_id`'s interviews, by id or room name; None for anyone else's."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM interviews WHERE clerk_id = $1 AND (id = $2 OR room_name = $3)",
        clerk_id,
        interview_id,
        room_name,
    )
    return None if row is None else _interview(row)


async def extend_token(conn: asyncpg.Connection, interview_id: uuid.UUID, expires_at: datetime) -> None:
    await conn.execute(
        "UPDATE interviews SET token_expires_at = $2 WHERE id = $1 AND token_expires_at < $2",
        interview_id,
        expires_at,
    )


async def list_owned(
    conn: asyncpg.Connection,
    clerk_id: str,
    *,
    statuses: tuple[str, ...],
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Interview]:
    """Newest first, strictly after the keyset `before` (created_at, id) when given."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM interviews
            WHERE clerk_id = $1 AND status = ANY($2::text[])
              AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
            ORDER BY created_at DESC, id DESC LIMIT $5""",
        clerk_id,
        list(statuses),
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [_interview(row) for row in rows]


class ReadBy(msgspec.Struct, frozen=True, kw_only=True):
    """A recruiter's read of the interview, as its candidate is shown it: the reader's organization role, never
    their id, name or email."""

    role: str
    what: str
    at: datetime


async def read_by(conn: asyncpg.Connection, interview_id: uuid.UUID) -> list[ReadBy]:
    """Who read the interview, newest first (at most the last 1,000 reads)."""
    rows = await conn.fetch(
        """SELECT role, what, at FROM access_records WHERE interview_id = $1 ORDER BY at DESC, id DESC LIMIT 1000""",
        interview_id,
    )
    return [ReadBy(**dict(row)) for row in rows]
