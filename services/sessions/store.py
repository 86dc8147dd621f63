"""SQL for the interviews table. Status only moves forward (created → active → ended), so repeated and
reordered LiveKit events cannot move an interview back."""

import uuid
from datetime import datetime

import asyncpg
import msgspec


class Interview(msgspec.Struct, frozen=True, kw_only=True):
    """An interview as its owner sees it."""

    id: uuid.UUID
    room_name: str
    status: str
    agent_name: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class NewInterview(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    user_id: uuid.UUID
    clerk_id: str
    room_name: str
    agent_name: str | None
    token_expires_at: datetime


_COLUMNS = ", ".join(Interview.__struct_fields__)


def _interview(row: asyncpg.Record) -> Interview:
    return Interview(**{key: row[key] for key in Interview.__struct_fields__})


async def insert_interview(conn: asyncpg.Connection, new: NewInterview) -> Interview:
    row = await conn.fetchrow(
        f"""INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, agent_name,
                                    status, token_expires_at)
            VALUES ($1, $2, $3, $4, $3, $5, 'created', $6)
            RETURNING {_COLUMNS}""",
        new.id,
        new.user_id,
        new.clerk_id,
        new.room_name,
        new.agent_name,
        new.token_expires_at,
    )
    assert row is not None
    return _interview(row)


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
        "UPDATE interviews SET token_expires_at = GREATEST(token_expires_at, $2) WHERE id = $1",
        interview_id,
        expires_at,
    )


async def list_owned(
    conn: asyncpg.Connection, clerk_id: str, *, before: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Interview]:
    """Newest first, strictly after the keyset `before` (created_at, id) when given."""
    if before is None:
        rows = await conn.fetch(
            f"""SELECT {_COLUMNS} FROM interviews WHERE clerk_id = $1
                ORDER BY created_at DESC, id DESC LIMIT $2""",
            clerk_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            f"""SELECT {_COLUMNS} FROM interviews WHERE clerk_id = $1 AND (created_at, id) < ($2, $3)
                ORDER BY created_at DESC, id DESC LIMIT $4""",
            clerk_id,
            before[0],
            before[1],
            limit,
        )
    return [_interview(row) for row in rows]


async def mark_active(conn: asyncpg.Connection, room_name: str, at: datetime) -> bool:
    """created → active, keeping the earliest start seen; False if the room is not one of ours."""
    result = await conn.execute(
        """UPDATE interviews
           SET started_at = LEAST(COALESCE(started_at, $2), $2),
               status = CASE WHEN status = 'created' THEN 'active' ELSE status END
           WHERE room_name = $1""",
        room_name,
        at,
    )
    return result != "UPDATE 0"


async def mark_ended(
    conn: asyncpg.Connection, room_name: str, at: datetime, *, leaving: str | None = None
) -> bool | None:
    """→ ended, once: True if this call ended it, False if it already was, None if no interview matched
    (not our room, or `leaving` is someone other than the interview's participant)."""
    row = await conn.fetchrow(
        """WITH target AS (
               SELECT id, status FROM interviews
               WHERE room_name = $1 AND ($3::text IS NULL OR participant_identity = $3)
               FOR UPDATE)
           UPDATE interviews i
           SET status = 'ended', ended_at = COALESCE(i.ended_at, $2)
           FROM target WHERE i.id = target.id
           RETURNING target.status <> 'ended' AS newly_ended""",
        room_name,
        at,
        leaving,
    )
    return None if row is None else bool(row["newly_ended"])
