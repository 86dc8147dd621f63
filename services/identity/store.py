"""SQL for the identity tables. Every user write is one statement, safe against any number of racers.

The policy (which write wins) lives in the statements' guards, so it holds across processes and replicas:
an upsert only overwrites a live row whose Clerk `updated_at` is older (or unknown: a pending stub), or the same
version of a row stored before Clerk's word on its email was kept (`email_verified` null), and nothing
un-deletes a tombstone.
"""

from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from libs.common.db import rows_affected
from libs.common.profile_claims import ProfileClaims
from services.identity.profiles import CreatedVia, User, UserProfile

USER_COLUMNS = ", ".join(User.__struct_fields__)
"""A stored user is described once, by `profiles.User`; a test checks it against the Piccolo table."""

_FIND_USER = f"SELECT {USER_COLUMNS} FROM users WHERE clerk_id = $1"

# The guarded writes, each shared by the statement that writes alone and the one that also records a webhook.
_PROFILE_INTO = """INSERT INTO users AS u (clerk_id, email, email_verified, phone, username, first_name, last_name,
                        image_url, clerk_created_at, clerk_updated_at, banned, locked, created_via, profile_status)"""
_PROFILE_GUARD = """ON CONFLICT (clerk_id) DO UPDATE SET
    email = EXCLUDED.email, email_verified = EXCLUDED.email_verified, phone = EXCLUDED.phone,
    username = EXCLUDED.username,
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, image_url = EXCLUDED.image_url,
    clerk_created_at = EXCLUDED.clerk_created_at, clerk_updated_at = EXCLUDED.clerk_updated_at,
    banned = EXCLUDED.banned, locked = EXCLUDED.locked, profile_status = 'complete', updated_at = now()
WHERE u.deleted_at IS NULL
  AND (u.clerk_updated_at IS NULL OR u.clerk_updated_at < EXCLUDED.clerk_updated_at
       OR (u.clerk_updated_at = EXCLUDED.clerk_updated_at AND u.email_verified IS NULL))"""
# A tombstone keeps the id (so no late event can resurrect the user) and erases the profile.
_TOMBSTONE_INTO = "INSERT INTO users AS u (clerk_id, created_via, profile_status, deleted_at)"
_TOMBSTONE_GUARD = """ON CONFLICT (clerk_id) DO UPDATE SET
    deleted_at = now(), updated_at = now(), profile_status = 'complete',
    email = NULL, email_verified = NULL, phone = NULL, username = NULL, first_name = NULL, last_name = NULL,
    image_url = NULL
WHERE u.deleted_at IS NULL"""

_UPSERT_PROFILE = f"""
{_PROFILE_INTO}
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'complete')
{_PROFILE_GUARD}
RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted
"""

# The no-op DO UPDATE makes RETURNING yield the row a concurrent caller inserted first; DO NOTHING would
# return nothing, and a follow-up SELECT could miss a row whose transaction has not committed yet.
_INSERT_PENDING = f"""
INSERT INTO users AS u (clerk_id, created_via, profile_status) VALUES ($1, $2, 'pending')
ON CONFLICT (clerk_id) DO UPDATE SET clerk_id = EXCLUDED.clerk_id
RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted
"""

# A user known only from their session token's claims: never written over an existing row (a webhook's, the
# backfill's or Clerk's, which carry Clerk's `updated_at`; or a tombstone), and, without Clerk's `updated_at`, written
# over by the first of those to come.
_INSERT_FROM_CLAIMS = f"""
INSERT INTO users AS u (clerk_id, email, username, first_name, last_name, image_url, created_via, profile_status)
VALUES ($1, $2, $3, $4, $5, $6, 'claims', 'complete')
ON CONFLICT (clerk_id) DO UPDATE SET clerk_id = EXCLUDED.clerk_id
RETURNING {USER_COLUMNS}, (xmax = 0) AS inserted
"""

_TOMBSTONE = f"""
{_TOMBSTONE_INTO} VALUES ($1, $2, 'complete', now())
{_TOMBSTONE_GUARD}
RETURNING id
"""

# A webhook delivery is one statement: the guarded write, only if this Svix message id was never recorded,
# then the record of the delivery with what the write did. Atomic, one round trip. Two deliveries of one
# message at once: both may try the write (the second finds it already done: its guard refuses), and the
# second's record waits on the first's, then yields nothing: it is reported as a duplicate.
DELIVERY = """
WITH fresh AS (SELECT NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = $1) AS delivery),
written AS ({write} RETURNING (xmax = 0) AS inserted),
recorded AS (
    INSERT INTO webhook_events (svix_id, event_type, clerk_id, event_timestamp, outcome)
    VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000),
            CASE WHEN EXISTS (SELECT 1 FROM written) THEN 'applied' ELSE 'stale' END)
    ON CONFLICT (svix_id) DO NOTHING
    RETURNING outcome
)
SELECT (SELECT outcome FROM recorded) AS outcome, COALESCE((SELECT inserted FROM written), false) AS inserted
"""
_DELIVER_PROFILE = DELIVERY.format(
    write=f"""{_PROFILE_INTO}
    SELECT $3, $5::text, $6::boolean, $7::text, $8::text, $9::text, $10::text, $11::text, $12::timestamptz,
           $13::timestamptz, $14::boolean, $15::boolean, 'webhook', 'complete'
    FROM fresh WHERE fresh.delivery
    {_PROFILE_GUARD}"""
)
_DELIVER_TOMBSTONE = DELIVERY.format(
    write=f"""{_TOMBSTONE_INTO} SELECT $3, 'webhook', 'complete', now() FROM fresh WHERE fresh.delivery
    {_TOMBSTONE_GUARD}"""
)
_DELIVER_IGNORED = """
INSERT INTO webhook_events (svix_id, event_type, clerk_id, event_timestamp, outcome)
VALUES ($1, $2, $3, to_timestamp($4::float8 / 1000), 'ignored')
ON CONFLICT (svix_id) DO NOTHING
RETURNING outcome
"""

_FRESHNESS = """
SELECT clerk_id, clerk_updated_at, deleted_at IS NOT NULL AS deleted, email_verified IS NULL AS email_unsaid
FROM users WHERE clerk_id = ANY($1)
"""


def _user(row: asyncpg.Record) -> User:
    return User(**{key: row[key] for key in User.__struct_fields__})


async def find_user(conn: asyncpg.Connection, clerk_id: str) -> User | None:
    row = await conn.fetchrow(_FIND_USER, clerk_id)
    return None if row is None else _user(row)


async def upsert_profile(
    conn: asyncpg.Connection, profile: UserProfile, created_via: CreatedVia
) -> tuple[User, bool] | None:
    """Write `profile` if it is newer than what is stored: (row, inserted), or None when the guard refused."""
    row = await conn.fetchrow(_UPSERT_PROFILE, profile.clerk_id, *_profile_parameters(profile), created_via)
    return None if row is None else (_user(row), row["inserted"])


async def insert_pending(conn: asyncpg.Connection, clerk_id: str, created_via: CreatedVia) -> tuple[User, bool]:
    """Make sure a row exists for `clerk_id`, a pending stub if there was none: (row, inserted)."""
    row = await conn.fetchrow(_INSERT_PENDING, clerk_id, created_via)
    assert row is not None  # DO UPDATE always returns the row
    return _user(row), row["inserted"]


async def insert_from_claims(conn: asyncpg.Connection, clerk_id: str, claims: ProfileClaims) -> tuple[User, bool]:
    """Make sure a row exists for `clerk_id`, made from the session token's claims if there was none: (row,
    inserted). An existing row (a tombstone included) is returned as it is."""
    row = await conn.fetchrow(
        _INSERT_FROM_CLAIMS,
        clerk_id,
        claims.email,
        claims.username,
        claims.first_name,
        claims.last_name,
        claims.image_url,
    )
    assert row is not None  # DO UPDATE always returns the row
    return _user(row), row["inserted"]


async def tombstone(conn: asyncpg.Connection, clerk_id: str, created_via: CreatedVia) -> bool:
    """Mark `clerk_id` deleted (a tombstone even if the user was never seen); False if it already was."""
    return await conn.fetchval(_TOMBSTONE, clerk_id, created_via) is not None


class Delivery(msgspec.Struct, frozen=True):
    """One webhook delivery: its Svix message id, the event's type, the user it names and its timestamp."""

    svix_id: str
    event_type: str
    clerk_id: str | None
    event_timestamp: int | None


DeliveryOutcome = Literal["applied", "stale", "ignored"]


async def deliver_profile(
    conn: asyncpg.Connection, delivery: Delivery, profile: UserProfile
) -> tuple[DeliveryOutcome, bool] | None:
    """Apply `profile` through the guarded upsert and record the delivery: (outcome, inserted), or None when
    this Svix message id was already recorded (a redelivery, which changes nothing)."""
    row = await conn.fetchrow(_DELIVER_PROFILE, *delivery_parameters(delivery), *_profile_parameters(profile))
    assert row is not None  # the statement always yields one row
    return None if row["outcome"] is None else (row["outcome"], row["inserted"])


async def deliver_tombstone(conn: asyncpg.Connection, delivery: Delivery) -> DeliveryOutcome | None:
    """Tombstone the user and record the delivery: the outcome, or None for a redelivery."""
    row = await conn.fetchrow(_DELIVER_TOMBSTONE, *delivery_parameters(delivery))
    assert row is not None
    outcome: DeliveryOutcome | None = row["outcome"]
    return outcome


async def deliver_ignored(conn: asyncpg.Connection, delivery: Delivery) -> DeliveryOutcome | None:
    """Record a delivery of a type we do not handle: "ignored", or None for a redelivery."""
    outcome: DeliveryOutcome | None = await conn.fetchval(_DELIVER_IGNORED, *delivery_parameters(delivery))
    return outcome


# A changes feed's page: after (xact, position), only from transactions older than every one still in flight (so no
# row can later appear behind a cursor already handed out). `{columns}` of `{table}` besides xact and position.
FEED_AFTER = """
SELECT position, xact, {columns} FROM {table}
WHERE (xact, position) > ($1, $2) AND xact < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
ORDER BY xact, position LIMIT $3
"""
_CHANGES_AFTER = FEED_AFTER.format(columns="clerk_id, user_id, change, at", table="user_changes")


async def changes_after(conn: asyncpg.Connection, xact: int, position: int, limit: int) -> list[asyncpg.Record]:
    """The users' changes after (xact, position) (`FEED_AFTER`)."""
    return list(await conn.fetch(_CHANGES_AFTER, xact, position, limit))


_PRUNE_DELIVERIES = """
DELETE FROM webhook_events WHERE svix_id IN (
    SELECT svix_id FROM webhook_events WHERE received_at < now() - make_interval(days => $1)
    ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)
"""


async def prune_deliveries(conn: asyncpg.Connection, retention_days: int, batch: int) -> int:
    """Delete up to `batch` delivery records older than `retention_days` (oldest first); how many."""
    return rows_affected(await conn.execute(_PRUNE_DELIVERIES, retention_days, batch))


def _profile_parameters(profile: UserProfile) -> tuple[object, ...]:
    """The profile's values after its id, in the column order of `_PROFILE_INTO`."""
    return (
        profile.email,
        profile.email_verified,
        profile.phone,
        profile.username,
        profile.first_name,
        profile.last_name,
        profile.image_url,
        profile.clerk_created_at,
        profile.clerk_updated_at,
        profile.banned,
        profile.locked,
    )


def delivery_parameters(delivery: Delivery) -> tuple[str, str, str | None, int | None]:
    return delivery.svix_id, delivery.event_type, delivery.clerk_id, delivery.event_timestamp


class Freshness(msgspec.Struct, frozen=True):
    clerk_updated_at: datetime | None
    deleted: bool
    email_unsaid: bool  # stored before Clerk's word on the email was kept


async def freshness(conn: asyncpg.Connection, clerk_ids: list[str]) -> dict[str, Freshness]:
    """What the upsert guard looks at, for each of `clerk_ids` that is stored."""
    found = await conn.fetch(_FRESHNESS, clerk_ids)
    return {row["clerk_id"]: Freshness(row["clerk_updated_at"], row["deleted"], row["email_unsaid"]) for row in found}


def would_refresh(stored: Freshness, profile: UserProfile) -> bool:
    """The upsert guard of `_UPSERT_PROFILE`, for a dry run that must not write."""
    return not stored.deleted and (
        stored.clerk_updated_at is None
        or stored.clerk_updated_at < profile.clerk_updated_at
        or (stored.clerk_updated_at == profile.clerk_updated_at and stored.email_unsaid)
    )


async def live_clerk_ids_created_before(conn: asyncpg.Connection, moment: datetime) -> list[str]:
    rows = await conn.fetch("SELECT clerk_id FROM users WHERE deleted_at IS NULL AND created_at < $1", moment)
    return [row["clerk_id"] for row in rows]
