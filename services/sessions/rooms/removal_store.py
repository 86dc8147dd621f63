"""SQL for room removals: queued with the change that asks for them, carried out by whichever replica claims them."""

import asyncpg
import msgspec

from libs.common.db import rows_affected


class RoomRemoval(msgspec.Struct, frozen=True):
    room_name: str
    clerk_id: str
    attempts: int


async def queue_room_removals(conn: asyncpg.Connection, clerk_id: str) -> int:
    """Queue the user's removal from the rooms they may be in now (those of their open interviews); how many."""
    result = await conn.execute(
        """INSERT INTO room_removals (room_name, clerk_id)
           SELECT room_name, clerk_id FROM interviews WHERE clerk_id = $1 AND status IN ('created', 'active')
           ON CONFLICT (room_name, clerk_id) DO NOTHING""",
        clerk_id,
    )
    return rows_affected(result)


async def queue_room_removal(conn: asyncpg.Connection, room_name: str, clerk_id: str) -> None:
    await conn.execute(
        "INSERT INTO room_removals (room_name, clerk_id) VALUES ($1, $2) ON CONFLICT (room_name, clerk_id) DO NOTHING",
        room_name,
        clerk_id,
    )


async def claim_room_removals(conn: asyncpg.Connection, limit: int, hold_seconds: float) -> list[RoomRemoval]:
    """Up to `limit` removals that are due, each put off by `hold_seconds` so no other replica claims it while
    this one tries it."""
    rows = await conn.fetch(
        """UPDATE room_removals SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM room_removals WHERE next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING room_name, clerk_id, attempts""",
        limit,
        hold_seconds,
    )
    return [RoomRemoval(row["room_name"], row["clerk_id"], row["attempts"]) for row in rows]


async def room_removal_done(conn: asyncpg.Connection, removal: RoomRemoval) -> None:
    await conn.execute(
        "DELETE FROM room_removals WHERE room_name = $1 AND clerk_id = $2", removal.room_name, removal.clerk_id
    )


async def room_removal_failed(conn: asyncpg.Connection, removal: RoomRemoval, retry_seconds: float) -> None:
    await conn.execute(
        """UPDATE room_removals SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $3)
           WHERE room_name = $1 AND clerk_id = $2""",
        removal.room_name,
        removal.clerk_id,
        retry_seconds,
    )


async def give_up_room_removal(conn: asyncpg.Connection, removal: RoomRemoval, older_than_seconds: int) -> bool:
    """Forget the removal if it was queued over `older_than_seconds` ago (no interview room outlives that);
    whether it was."""
    result = await conn.execute(
        """DELETE FROM room_removals
           WHERE room_name = $1 AND clerk_id = $2 AND queued_at < now() - make_interval(secs => $3)""",
        removal.room_name,
        removal.clerk_id,
        older_than_seconds,
    )
    return rows_affected(result) > 0
