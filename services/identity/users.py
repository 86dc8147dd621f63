"""The identity domain: the only code that decides what happens to a user row.

Both entry points, `ensure_user` (the RPC the sessions service calls before every interview) and
`apply_clerk_event` (Clerk's webhooks), write through the guarded statements of `store`, so whichever
arrives first, however often and in whatever order, the table converges to Clerk's latest state.
"""

import logging
import time
from typing import Literal

import msgspec

from libs.common.db import Database
from services.identity import store
from services.identity.clerk import (
    USER_EVENT_TYPES,
    ClerkClient,
    ClerkEventHead,
    ClerkUnavailable,
    ClerkUserDeletedEvent,
    ClerkUserEvent,
)
from services.identity.errors import MalformedClerkId, MalformedWebhook, UserDeleted, UserNotFound
from services.identity.metrics import USERS_CREATED, WEBHOOK_EVENTS, WEBHOOK_LAG
from services.identity.profiles import CLERK_USER_ID, User

logger = logging.getLogger(__name__)

WebhookOutcome = Literal["applied", "stale", "ignored", "duplicate"]


class EnsuredUser(msgspec.Struct, frozen=True):
    user: User
    created: bool


def _checked(clerk_id: str) -> str:
    if not CLERK_USER_ID.match(clerk_id):
        raise MalformedClerkId("A Clerk user id looks like 'user_' followed by letters and digits.")
    return clerk_id


def _live(user: User) -> User:
    if user.deleted_at is not None:
        raise UserDeleted(f"User {user.clerk_id} was deleted in Clerk.")
    return user


async def ensure_user(database: Database, clerk: ClerkClient, clerk_id: str) -> EnsuredUser:
    """Return the user, creating it first if it is unknown here. Idempotent and race-safe.

    A known user costs one indexed read. An unknown one is fetched from Clerk (one request per process for
    any number of concurrent callers) and inserted; if Clerk cannot answer, a pending stub is inserted so
    the caller can go on, and a later webhook or backfill fills the profile in. Raises `MalformedClerkId`,
    `UserNotFound` (Clerk has no such user) or `UserDeleted` (tombstoned).
    """
    async with database.connection() as conn:
        existing = await store.find_user(conn, _checked(clerk_id))
    if existing is not None:
        return EnsuredUser(user=_live(existing), created=False)

    try:
        clerk_user = await clerk.get_user(clerk_id)
    except ClerkUnavailable:
        async with database.connection() as conn:
            user, created = await store.insert_pending(conn, clerk_id, "ensure")
        if created:
            USERS_CREATED.labels("ensure", "clerk_unavailable").inc()
            logger.warning("created %s with a pending profile: Clerk is unavailable", clerk_id)
        return EnsuredUser(user=_live(user), created=created)
    if clerk_user is None:
        raise UserNotFound(f"Clerk has no user {clerk_id}.")

    async with database.connection() as conn:
        written = await store.upsert_profile(conn, clerk_user.to_profile(), "ensure")
        if written is None:  # a newer profile or a tombstone got there first
            current = await store.find_user(conn, clerk_id)
            assert current is not None
            written = (current, False)
    user, created = written
    if created:
        USERS_CREATED.labels("ensure", "webhook_not_yet_delivered").inc()
        logger.info("created %s from Clerk before its webhook arrived; check the Clerk webhook if frequent", clerk_id)
    return EnsuredUser(user=_live(user), created=created)


async def find_user(database: Database, clerk_id: str) -> User:
    """The stored user, tombstones included. Raises `MalformedClerkId` or `UserNotFound`."""
    async with database.connection() as conn:
        user = await store.find_user(conn, _checked(clerk_id))
    if user is None:
        raise UserNotFound(f"No user {clerk_id} is stored here.")
    return user


_user_event = msgspec.json.Decoder(ClerkUserEvent)
_deleted_event = msgspec.json.Decoder(ClerkUserDeletedEvent)
_event_head = msgspec.json.Decoder(ClerkEventHead)


async def apply_clerk_event(database: Database, svix_id: str, body: bytes) -> WebhookOutcome:
    """Apply one verified Clerk webhook exactly once, in one transaction.

    A repeated `svix_id` is a `duplicate` and changes nothing; a profile not newer than the stored one, or
    any event about a tombstoned user, is `stale`; types other than user.created/updated/deleted are
    `ignored`. If the database fails midway nothing is kept, and the error (503) makes Svix redeliver.
    """
    try:
        head = _event_head.decode(body)
        if head.type in USER_EVENT_TYPES:
            event: ClerkUserEvent | ClerkUserDeletedEvent | None = _user_event.decode(body)
        elif head.type == "user.deleted":
            event = _deleted_event.decode(body)
        else:
            event = None
    except msgspec.DecodeError as error:
        WEBHOOK_EVENTS.labels("unknown", "malformed").inc()
        raise MalformedWebhook(f"Webhook {svix_id} does not match Clerk's event schema: {error}") from error
    clerk_id = event.data.id if event is not None else None
    if clerk_id is not None and not CLERK_USER_ID.match(clerk_id):
        raise MalformedWebhook(f"Webhook {svix_id} names a malformed Clerk user id.")

    async with database.transaction() as conn:
        if not await store.claim_delivery(conn, svix_id, head.type, clerk_id, head.timestamp):
            WEBHOOK_EVENTS.labels(head.type, "duplicate").inc()
            return "duplicate"
        outcome: WebhookOutcome
        created = False
        if isinstance(event, ClerkUserEvent):
            written = await store.upsert_profile(conn, event.data.to_profile(), "webhook")
            outcome = "applied" if written is not None else "stale"
            created = written is not None and written[1]
        elif isinstance(event, ClerkUserDeletedEvent):
            outcome = "applied" if await store.tombstone(conn, event.data.id, "webhook") else "stale"
        else:
            outcome = "ignored"
        await store.record_outcome(conn, svix_id, outcome)
    if created:
        USERS_CREATED.labels("webhook", "").inc()
    _observe_lag(head.timestamp)
    WEBHOOK_EVENTS.labels(head.type, outcome).inc()
    logger.info("webhook %s %s: %s", svix_id, head.type, outcome, extra={"clerk_id": clerk_id})
    return outcome


def _observe_lag(event_timestamp: int | None) -> None:
    if event_timestamp is None:
        return
    # Clerk documents milliseconds; accept seconds too rather than record a lag of decades.
    seconds = event_timestamp / 1000 if event_timestamp > 10**11 else event_timestamp
    WEBHOOK_LAG.observe(max(0.0, time.time() - seconds))
