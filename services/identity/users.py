"""The identity domain: the only code that decides what happens to a user row.

Both entry points, `ensure_user` (the RPC the sessions service calls before an interview of a user it has
not confirmed lately) and `clerk_events.apply_clerk_event` (Clerk's webhooks), write through the guarded
statements of `store`, so whichever arrives first, however often and in whatever order, the table converges to
Clerk's latest state.
"""

import functools
import logging

import msgspec

from libs.common.clerk_ids import is_clerk_user_id
from libs.common.db import Database
from libs.common.profile_claims import ProfileClaims
from libs.common.request_context import annotate_request
from libs.common.single_flight import SingleFlight
from services.identity import store
from services.identity.clerk import ClerkClient, ClerkUnavailable
from services.identity.errors import (
    MalformedClerkId,
    UserBanned,
    UserDeleted,
    UserLocked,
    UserNotFound,
)
from services.identity.metrics import USERS_CREATED
from services.identity.pending_profiles import PendingProfiles
from services.identity.profiles import User

logger = logging.getLogger(__name__)


class EnsuredUser(msgspec.Struct, frozen=True):
    user: User
    created: bool


def _checked(clerk_id: str) -> str:
    if not is_clerk_user_id(clerk_id):
        raise MalformedClerkId("A Clerk user id looks like 'user_' followed by letters and digits.")
    return clerk_id


def _allowed(user: User) -> User:
    """The user, if it may start interviews: not deleted, banned or locked in Clerk (each a 4xx of its own)."""
    if user.deleted_at is not None:
        raise UserDeleted(f"User {user.clerk_id} was deleted in Clerk.")
    if user.banned:
        raise UserBanned(f"User {user.clerk_id} is banned in Clerk.")
    if user.locked:
        raise UserLocked(f"User {user.clerk_id} is locked in Clerk (too many failed sign-ins).")
    return user


UserCreations = SingleFlight[str, EnsuredUser]
"""The creations of unknown users under way in this process, one per Clerk id."""


async def ensure_user(
    database: Database,
    clerk: ClerkClient,
    creations: UserCreations,
    pending: PendingProfiles,
    *,
    clerk_id: str,
    claims: ProfileClaims | None = None,
    verified_email: bool = False,
) -> EnsuredUser:
    """Return the user, creating it first if it is unknown here. Idempotent and race-safe.

    A known user costs one indexed read. An unknown one is made from the session token's `claims` when it
    carries any (`created_via` claims, without a round trip to Clerk: a webhook, the backfill or Clerk's API
    later writes over it, never the other way round), else fetched from Clerk and inserted, one Clerk request
    per process for any burst of callers: they join one creation. (A caller that missed the row just before
    another creation's write committed asks Clerk once more; the guarded upsert then keeps the stored row.
    Reading the row again first would cost every new user a statement for that rare race.) If Clerk
    cannot answer, a pending stub is inserted so the caller can go on, and a later webhook or backfill fills
    the profile in, and so does `pending` on the user's next call, in the background (the caller never
    waits for it). With `verified_email` (a caller about to trust the user's email: an invite naming one), the
    primary email must be Clerk's word: a user whose stored email Clerk has not vouched for (made from claims,
    unverified when last heard of, pending) is asked of Clerk now, and a new one is never made from claims;
    Clerk unreachable, the user is returned as stored, `email_verified` not true, for the caller to refuse.
    `created` is true for the one call that created the row. Raises `MalformedClerkId`,
    `UserNotFound` (Clerk has no such user), `UserDeleted` (tombstoned), `UserBanned` or `UserLocked`: a
    banned or locked user is stored as Clerk says, and refused.
    """
    annotate_request(clerk_id=_checked(clerk_id))  # whom this call ensured, on its access line
    async with database.connection() as conn:
        existing = await store.find_user(conn, clerk_id)
    if existing is not None:
        if existing.profile_status == "pending":
            pending.complete(clerk_id)
        annotate_request(created=False)
        user = _allowed(existing)
        if verified_email and user.email_verified is not True:
            user = _allowed(await _refreshed_from_clerk(database, clerk, user))
        return EnsuredUser(user=user, created=False)
    if claims is not None and not claims.is_empty() and not verified_email:
        create = functools.partial(_create_from_claims, database, clerk_id, claims)
    else:
        create = functools.partial(_create_from_clerk, database, clerk, clerk_id)
    ensured, started = await creations.run(clerk_id, create)
    created = ensured.created and started
    annotate_request(created=created, **({"created_from": _source(ensured.user)} if created else {}))
    return EnsuredUser(user=_allowed(ensured.user), created=created)


def _source(user: User) -> str:
    """What a user created by ensure-user was made from, for its access line."""
    if user.created_via == "claims":
        return "session_claims"
    return "clerk" if user.profile_status == "complete" else "id_only_clerk_unavailable"


async def _create_from_claims(database: Database, clerk_id: str, claims: ProfileClaims) -> EnsuredUser:
    async with database.connection() as conn:
        user, created = await store.insert_from_claims(conn, clerk_id, claims)
    if created:
        USERS_CREATED.labels("ensure", "session_claims").inc()
        logger.info("created %s from its session token's claims before its webhook arrived", clerk_id)
    return EnsuredUser(user=user, created=created)


async def _create_from_clerk(database: Database, clerk: ClerkClient, clerk_id: str) -> EnsuredUser:
    try:
        clerk_user = await clerk.get_user(clerk_id)
    except ClerkUnavailable:
        async with database.connection() as conn:
            user, created = await store.insert_pending(conn, clerk_id, "ensure")
        if created:
            USERS_CREATED.labels("ensure", "clerk_unavailable").inc()
            logger.warning("created %s with a pending profile: Clerk is unavailable", clerk_id)
        return EnsuredUser(user=user, created=created)
    if clerk_user is None:
        raise UserNotFound(f"Clerk has no user {clerk_id}.")

    async with database.connection() as conn:
        written = await store.upsert_profile(conn, clerk_user.to_profile(), "ensure")
        if written is None:  # as new a profile, or a tombstone, got there first
            current = await store.find_user(conn, clerk_id)
            assert current is not None
            written = (current, False)
    user, created = written
    if created:
        USERS_CREATED.labels("ensure", "webhook_not_yet_delivered").inc()
        logger.info("created %s from Clerk before its webhook arrived; check the Clerk webhook if frequent", clerk_id)
    return EnsuredUser(user=user, created=created)


async def _refreshed_from_clerk(database: Database, clerk: ClerkClient, stored: User) -> User:
    """The user as Clerk has it now, written through the guarded upsert (a newer row stored meanwhile stays);
    `stored` as it is when Clerk cannot answer or no longer knows the user (its webhook then says so)."""
    try:
        clerk_user = await clerk.get_user(stored.clerk_id)
    except ClerkUnavailable:
        logger.warning("could not ask Clerk whether %s verified their email: Clerk is unavailable", stored.clerk_id)
        return stored
    if clerk_user is None:
        return stored
    async with database.connection() as conn:
        written = await store.upsert_profile(conn, clerk_user.to_profile(), "ensure")
        if written is not None:
            return written[0]
        current = await store.find_user(conn, stored.clerk_id)
    return current or stored


async def find_user(database: Database, clerk_id: str) -> User:
    """The stored user, tombstones included. Raises `MalformedClerkId` or `UserNotFound`."""
    async with database.connection() as conn:
        user = await store.find_user(conn, _checked(clerk_id))
    if user is None:
        raise UserNotFound(f"No user {clerk_id} is stored here.")
    return user
