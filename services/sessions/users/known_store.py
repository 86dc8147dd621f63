"""SQL for what identity last said about each user (recheck and stale-if-error), and what the users' feed does to it."""

import uuid

import asyncpg
import msgspec

from libs.common.db import rows_affected
from services.sessions.recordings import store as recording_store


class KnownUser(msgspec.Struct, frozen=True):
    """A user as identity described them: just now (`answered_now`), or in a recent answer remembered here."""

    user_id: uuid.UUID
    display_name: str
    answered_now: bool = False
    # In an answer given just now (never remembered here): the primary email as Clerk verified it (None: none
    # verified), and whether Clerk's word on it was to be had at all.
    email: str | None = None
    email_known: bool = False


async def recent_answer(
    conn: asyncpg.Connection, clerk_id: str, within_seconds: int, *, feed_current_seconds: int | None = None
) -> KnownUser | None:
    """The user as identity confirmed them within `within_seconds`, unless since reported banned or locked;
    with `feed_current_seconds`, only while the users' feed was read to its end that recently."""
    row = await conn.fetchrow(
        "SELECT user_id, display_name FROM recent_answer($1, $2, $3)", clerk_id, within_seconds, feed_current_seconds
    )
    return None if row is None else KnownUser(row["user_id"], row["display_name"])


async def forget_user(conn: asyncpg.Connection, clerk_id: str) -> None:
    await conn.execute("DELETE FROM known_users WHERE clerk_id = $1", clerk_id)


async def hold_user(conn: asyncpg.Connection, clerk_id: str) -> None:
    """Wait for the user's starts in flight, and hold theirs back, until this transaction ends: the lock
    `start_interview` takes. A start then either went before (its row is seen) or comes after (it sees what
    this transaction did)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", clerk_id)


async def erase_user(conn: asyncpg.Connection, clerk_id: str) -> int:
    """Delete every row naming the user (their interviews, organizations' included; their consents; what identity
    said of them; their name and email on the invite they redeemed, which stays used), queue their recordings'
    erasure from the bucket, and record them as erased (their Clerk id only, which refuses their starts from then
    on); how many interviews were erased. Inside the caller's transaction."""
    interviews = [row["id"] for row in await conn.fetch("SELECT id FROM interviews WHERE clerk_id = $1", clerk_id)]
    await recording_store.erase_recordings(conn, interviews, "user_deleted")
    await conn.execute("DELETE FROM consents WHERE clerk_id = $1", clerk_id)
    result = await conn.execute("DELETE FROM interviews WHERE clerk_id = $1", clerk_id)
    await forget_user(conn, clerk_id)
    await conn.execute(
        "UPDATE invites SET redeemed_by = NULL, email = NULL, interview_id = NULL WHERE redeemed_by = $1", clerk_id
    )
    await conn.execute("INSERT INTO erased_users (clerk_id) VALUES ($1) ON CONFLICT DO NOTHING", clerk_id)
    return rows_affected(result)


async def flag_user(conn: asyncpg.Connection, clerk_id: str, *, banned: bool | None, locked: bool | None) -> None:
    await conn.execute(
        "UPDATE known_users SET banned = COALESCE($2, banned), locked = COALESCE($3, locked) WHERE clerk_id = $1",
        clerk_id,
        banned,
        locked,
    )
