"""Identity's organizations' feed, applied here (`feeds` follows it): an organization Clerk deleted is erased,
templates, invites, interviews, transcripts and reports, within seconds of identity applying the deletion."""

import asyncpg

from libs.common.clerk_ids import is_clerk_organization_id
from services.sessions.metrics import ORGANIZATION_FEED_CHANGES, ORGANIZATION_FEED_POLLS
from services.sessions.organizations import erasure_store
from services.sessions.users.feeds import Feed, Unreadable
from services.sessions.users.identity_client import FeedItem


async def apply_organization_change(conn: asyncpg.Connection, change: FeedItem) -> str:
    """Apply `organization_deleted`, inside the caller's transaction; what was erased."""
    org_id = change.org_id
    if org_id is None or not is_clerk_organization_id(org_id):
        raise Unreadable("it names no Clerk organization id")
    erased = await erasure_store.erase_organization(conn, org_id)
    return f"erased organization {org_id}: {erased} interviews"


ORGANIZATIONS_FEED = Feed(
    name="identity-organizations",
    path="/internal/organizations/changes",
    apply=apply_organization_change,
    kinds=frozenset({"organization_deleted"}),
    polls=ORGANIZATION_FEED_POLLS,
    changes=ORGANIZATION_FEED_CHANGES,
)
