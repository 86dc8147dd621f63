"""Clerk's webhooks, applied: users (`user.created`, `user.updated`, `user.deleted`) and organizations
(`organization.created`, `organization.updated`, `organization.deleted`), each exactly once, in one statement
that records the delivery with the guarded write (`store.deliver_*`, `organization_store.deliver_*`), so that
whichever arrives first, however often and in whatever order, each table converges to Clerk's latest state."""

import re
import time
from typing import Literal

import msgspec

from libs.common.db import Database
from libs.common.request_context import annotate_request
from services.identity import organization_store, store
from services.identity.clerk_payloads import (
    ORGANIZATION_EVENT_TYPES,
    USER_EVENT_TYPES,
    ClerkEventHead,
    ClerkOrganizationDeletedEvent,
    ClerkOrganizationEvent,
    ClerkUserDeletedEvent,
    ClerkUserEvent,
    decode,
)
from services.identity.errors import MalformedWebhook
from services.identity.metrics import USERS_CREATED, WEBHOOK_EVENTS, WEBHOOK_LAG

WebhookOutcome = Literal["applied", "stale", "ignored", "duplicate"]
Event = ClerkUserEvent | ClerkUserDeletedEvent | ClerkOrganizationEvent | ClerkOrganizationDeletedEvent

_DECODERS: dict[str, msgspec.json.Decoder[Event]] = {
    **dict.fromkeys(USER_EVENT_TYPES, msgspec.json.Decoder(ClerkUserEvent)),
    "user.deleted": msgspec.json.Decoder(ClerkUserDeletedEvent),
    **dict.fromkeys(ORGANIZATION_EVENT_TYPES, msgspec.json.Decoder(ClerkOrganizationEvent)),
    "organization.deleted": msgspec.json.Decoder(ClerkOrganizationDeletedEvent),
}
_event_head = msgspec.json.Decoder(ClerkEventHead)
_SVIX_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # what webhook_events.svix_id holds


def _read(svix_id: str, body: bytes) -> tuple[ClerkEventHead, Event | None]:
    if not _SVIX_ID.fullmatch(svix_id):
        WEBHOOK_EVENTS.labels("unknown", "malformed").inc()
        raise MalformedWebhook("The svix-id header is not a Svix message id.")
    try:
        head = decode(_event_head, body)
        decoder = _DECODERS.get(head.type)
        return head, decode(decoder, body) if decoder is not None else None
    except msgspec.DecodeError as error:
        WEBHOOK_EVENTS.labels("unknown", "malformed").inc()
        raise MalformedWebhook(f"Webhook {svix_id} does not match Clerk's event schema: {error}") from error


async def apply_clerk_event(database: Database, svix_id: str, body: bytes) -> WebhookOutcome:
    """Apply one verified Clerk webhook exactly once, in one statement.

    A repeated `svix_id` is a `duplicate` and changes nothing; a profile not newer than the stored one, or any
    event about a tombstoned user or organization, is `stale`; other types are `ignored`. If the database fails
    midway nothing is kept, and the error (503) makes Svix redeliver.
    """
    head, event = _read(svix_id, body)
    named = event.data.id if event is not None else None
    delivery = store.Delivery(svix_id, head.type, named, head.timestamp)
    created = False
    async with database.connection() as conn:
        if isinstance(event, ClerkUserEvent):
            written = await store.deliver_profile(conn, delivery, event.data.to_profile())
            outcome, created = written if written is not None else (None, False)
        elif isinstance(event, ClerkUserDeletedEvent):
            outcome = await store.deliver_tombstone(conn, delivery)
        elif isinstance(event, ClerkOrganizationEvent):
            outcome = await organization_store.deliver_profile(conn, delivery, event.data.to_profile())
        elif isinstance(event, ClerkOrganizationDeletedEvent):
            outcome = await organization_store.deliver_tombstone(conn, delivery)
        else:
            outcome = await store.deliver_ignored(conn, delivery)
    if outcome is None:
        result: WebhookOutcome = "duplicate"
    else:
        result = outcome
        if created:
            USERS_CREATED.labels("webhook", "").inc()
        _observe_lag(head.timestamp)
    WEBHOOK_EVENTS.labels(head.type, result).inc()
    subject = "org_id" if head.type.startswith("organization.") else "clerk_id"
    annotate_request(svix_id=svix_id, event_type=head.type, outcome=result, **{subject: named})
    return result


def _observe_lag(event_timestamp: int | None) -> None:
    if event_timestamp is None:
        return
    # Clerk documents milliseconds; accept seconds too rather than record a lag of decades.
    seconds = event_timestamp / 1000 if event_timestamp > 10**11 else event_timestamp
    WEBHOOK_LAG.observe(max(0.0, time.time() - seconds))
