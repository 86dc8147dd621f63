"""SQL for the interviews table. Status only moves forward (created → active → ended, created → expired; an
expired one whose candidate did join becomes active), so repeated and reordered LiveKit events cannot move an
interview back."""

import uuid
from datetime import datetime

import asyncpg
import msgspec

from libs.common.db import rows_affected


class Interview(msgspec.Struct, frozen=True, kw_only=True):
    """An interview as its owner sees it."""

    id: uuid.UUID
    room_name: str
    status: str
    agent_name: str | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    has_report: bool  # whether its agent has reported (read it with the interview)


class NewInterview(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    clerk_id: str
    room_name: str
    agent_name: str | None
    token_expires_at: datetime


class KnownUser(msgspec.Struct, frozen=True):
    """A user as identity described them: just now (`answered_now`), or in a recent answer remembered here."""

    user_id: uuid.UUID
    display_name: str
    answered_now: bool = False


class Start(msgspec.Struct, frozen=True):
    """What a start did: `outcome` started | reused (the user's unused interview for that agent, handed back) |
    at_cap | unconfirmed (no recent answer about the user: ask identity) | deleted (the users' feed reported the
    user deleted); the name the user starts under, and the interview (started or reused) and its room."""

    outcome: str
    display_name: str | None
    interview_id: uuid.UUID | None
    room_name: str | None


_COLUMNS = ", ".join(
    [
        *(field for field in Interview.__struct_fields__ if field != "has_report"),
        "EXISTS (SELECT 1 FROM interview_reports r WHERE r.interview = interviews.id) AS has_report",
    ]
)


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
    holds an unused interview for the same agent (it is handed back, its token's expiry moved to `new`'s) or
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
        "UPDATE interviews SET token_expires_at = GREATEST(token_expires_at, $2) WHERE id = $1",
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


# --- LiveKit webhooks: each statement records the event id and applies it, or does nothing for a repeat ---

_EVENT = """WITH fresh AS (
                INSERT INTO livekit_webhook_events (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id),
            target AS (
                SELECT id, status, participant_sid FROM interviews
                WHERE room_name = $2 AND ($3::text IS NULL OR participant_identity = $3) FOR UPDATE),
            changed AS ({change})
            SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM fresh) THEN 'duplicate'
                        WHEN NOT EXISTS (SELECT 1 FROM target) THEN 'unknown_room'
                        WHEN NOT EXISTS (SELECT 1 FROM changed) THEN 'stale'
                        ELSE 'applied' END AS outcome,
                   (SELECT before FROM changed) AS before"""

_JOINED = (
    _EVENT.format(
        change="""UPDATE interviews i
              SET status = CASE WHEN i.status = 'ended' THEN 'ended' ELSE 'active' END,
                  started_at = LEAST(COALESCE(i.started_at, $5), $5),
                  participant_sid = CASE WHEN i.participant_joined_ms > $6 THEN i.participant_sid ELSE $4 END,
                  participant_joined_ms = GREATEST(i.participant_joined_ms, $6)
              FROM target, fresh WHERE i.id = target.id
              RETURNING target.status AS before"""
    )
    + """,
                   EXISTS (SELECT 1 FROM known_users WHERE clerk_id = $3 AND (banned OR locked))
                   OR EXISTS (SELECT 1 FROM erased_users WHERE clerk_id = $3) AS refused"""
)

_ENDED = _EVENT.format(
    change="""UPDATE interviews i SET status = 'ended', ended_at = COALESCE(i.ended_at, $5)
              FROM target, fresh
              WHERE i.id = target.id AND target.status <> 'ended'
                AND ($4::text IS NULL OR target.participant_sid IS NULL OR target.participant_sid = $4)
              RETURNING target.status AS before"""
)


class Applied(msgspec.Struct, frozen=True):
    """What a webhook did: `outcome` (applied | duplicate | unknown_room | stale), the status before, and for
    a join whether the users' feed has reported the candidate banned, locked or deleted (`refused`)."""

    outcome: str
    before: str | None
    refused: bool = False


async def record_join(
    conn: asyncpg.Connection, event_id: str, room: str, *, identity: str, sid: str, at: datetime, joined_ms: int
) -> Applied:
    """The candidate joined: active (an ended interview stays ended), and `sid` becomes its current participant
    unless a later join is already recorded."""
    row = await conn.fetchrow(_JOINED, event_id, room, identity, sid, at, joined_ms)
    assert row is not None
    return Applied(row["outcome"], row["before"], row["refused"])


async def record_end(
    conn: asyncpg.Connection, event_id: str, room: str, at: datetime, *, identity: str | None, sid: str | None
) -> Applied:
    """Ended: by the room finishing (`identity` None), or by the candidate's current participant `sid`
    leaving (a leave of an older sid is `stale`)."""
    row = await conn.fetchrow(_ENDED, event_id, room, identity, sid, at)
    assert row is not None
    return Applied(row["outcome"], row["before"])


# --- The reconciler --------------------------------------------------------------------------------------


class OpenInterview(msgspec.Struct, frozen=True):
    id: uuid.UUID
    room_name: str
    status: str  # active, or created with its token expired
    started_at: datetime | None


async def open_interviews(conn: asyncpg.Connection, after: uuid.UUID | None, limit: int) -> list[OpenInterview]:
    """Open interviews the reconciler must check (active ones, and created ones past their token's expiry),
    by id after `after`."""
    rows = await conn.fetch(
        """SELECT id, room_name, status, started_at FROM interviews
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


# --- What identity last said about each user (stale-if-error), and the users' feed ----------------------


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
    """Delete every row naming the user and record them as erased (their Clerk id only, which refuses their
    starts from then on); how many interviews were erased."""
    result = await conn.execute("DELETE FROM interviews WHERE clerk_id = $1", clerk_id)
    await forget_user(conn, clerk_id)
    await conn.execute("INSERT INTO erased_users (clerk_id) VALUES ($1) ON CONFLICT DO NOTHING", clerk_id)
    return rows_affected(result)


async def flag_user(conn: asyncpg.Connection, clerk_id: str, *, banned: bool | None, locked: bool | None) -> None:
    await conn.execute(
        "UPDATE known_users SET banned = COALESCE($2, banned), locked = COALESCE($3, locked) WHERE clerk_id = $1",
        clerk_id,
        banned,
        locked,
    )


async def lease_feed(conn: asyncpg.Connection, feed: str, holder: str, seconds: float) -> str | None:
    """The feed's cursor, if `holder` holds (or now takes) the feed's lease for `seconds`; None while another
    replica's lease runs."""
    value: str | None = await conn.fetchval(
        """UPDATE feed_cursors SET leased_by = $2, leased_until = now() + make_interval(secs => $3)
           WHERE feed = $1 AND (leased_by IS NULL OR leased_by = $2 OR leased_until < now())
           RETURNING cursor""",
        feed,
        holder,
        seconds,
    )
    return value


async def save_feed_cursor(
    conn: asyncpg.Connection, feed: str, holder: str, *, read_from: str, cursor: str, at_end: bool
) -> bool:
    """Where the next read starts, saved only if `holder` still holds the lease and nobody moved the cursor
    from `read_from` meanwhile (False otherwise: the caller rolls back what it applied). `at_end`: this read
    reached the end of the feed (`updated_at` says when the feed was last current)."""
    saved = await conn.fetchval(
        """UPDATE feed_cursors SET cursor = $4, updated_at = CASE WHEN $5 THEN now() ELSE updated_at END
           WHERE feed = $1 AND leased_by = $2 AND cursor = $3 RETURNING true""",
        feed,
        holder,
        read_from,
        cursor,
        at_end,
    )
    return bool(saved)


# --- Room removals: queued with the change that asks for them, carried out by whichever replica claims them ---


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
