"""SQL for organizations as Clerk says they are: the same guards as users' (only a newer profile overwrites, and a
tombstone stays one), each delivery recorded in the same statement, and their changes feed."""

import asyncpg

from services.identity.clerk_payloads import OrganizationProfile
from services.identity.store import DELIVERY, FEED_AFTER, Delivery, DeliveryOutcome, delivery_parameters

_DELIVER_PROFILE = DELIVERY.format(
    write="""INSERT INTO organizations AS o (clerk_org_id, name, slug, clerk_created_at, clerk_updated_at)
    SELECT $3, $5::text, $6::text, $7::timestamptz, $8::timestamptz FROM fresh WHERE fresh.delivery
    ON CONFLICT (clerk_org_id) DO UPDATE SET
        name = EXCLUDED.name, slug = EXCLUDED.slug, clerk_created_at = EXCLUDED.clerk_created_at,
        clerk_updated_at = EXCLUDED.clerk_updated_at, updated_at = now()
    WHERE o.deleted_at IS NULL
      AND (o.clerk_updated_at IS NULL OR o.clerk_updated_at < EXCLUDED.clerk_updated_at)"""
)
# A tombstone keeps the id (so no late event brings the organization back) and erases what it was called.
_DELIVER_TOMBSTONE = DELIVERY.format(
    write="""INSERT INTO organizations AS o (clerk_org_id, deleted_at) SELECT $3, now() FROM fresh WHERE fresh.delivery
    ON CONFLICT (clerk_org_id) DO UPDATE SET deleted_at = now(), updated_at = now(), name = NULL, slug = NULL
    WHERE o.deleted_at IS NULL"""
)


async def deliver_profile(
    conn: asyncpg.Connection, delivery: Delivery, profile: OrganizationProfile
) -> DeliveryOutcome | None:
    """Apply `profile` through the guarded upsert and record the delivery: the outcome, or None for a redelivery."""
    row = await conn.fetchrow(
        _DELIVER_PROFILE,
        *delivery_parameters(delivery),
        profile.name,
        profile.slug,
        profile.clerk_created_at,
        profile.clerk_updated_at,
    )
    assert row is not None  # the statement always yields one row
    outcome: DeliveryOutcome | None = row["outcome"]
    return outcome


async def deliver_tombstone(conn: asyncpg.Connection, delivery: Delivery) -> DeliveryOutcome | None:
    """Tombstone the organization (its deletion goes onto the feed) and record the delivery."""
    row = await conn.fetchrow(_DELIVER_TOMBSTONE, *delivery_parameters(delivery))
    assert row is not None
    outcome: DeliveryOutcome | None = row["outcome"]
    return outcome


_CHANGES_AFTER = FEED_AFTER.format(columns="org_id, change, at", table="organization_changes")


async def changes_after(conn: asyncpg.Connection, xact: int, position: int, limit: int) -> list[asyncpg.Record]:
    """The organizations' changes after (xact, position) (`store.FEED_AFTER`)."""
    return list(await conn.fetch(_CHANGES_AFTER, xact, position, limit))
