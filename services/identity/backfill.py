"""Backfill and reconcile: make the users table equal Clerk's user list, through the one write path.

For users who predate the webhook, webhooks that were lost, and any drift. Every write is the same guarded
statement webhooks use, each page in its own transaction, so the command can be interrupted at any point
and run again: it picks up what is missing and rewrites nothing that is already current.
"""

from collections.abc import Callable
from datetime import datetime

import msgspec

from libs.common.db import Database
from services.identity import store
from services.identity.clerk import ClerkClient, ClerkUserUnreadable
from services.identity.clerk_payloads import ClerkUser
from services.identity.metrics import USERS_CREATED

PAGE_SIZE = 500  # Clerk's maximum `limit`


class BackfillReport(msgspec.Struct, kw_only=True):
    """Counts of what the walk found; in a dry run, what it would have done."""

    dry_run: bool
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    tombstoned: int = 0
    skipped: int = 0  # listed by Clerk in a shape we cannot read (logged by id); everyone else goes on


async def reconcile_with_clerk(
    database: Database,
    clerk: ClerkClient,
    *,
    dry_run: bool = False,
    page_size: int = PAGE_SIZE,
    on_progress: Callable[[BackfillReport], None] = lambda _: None,
) -> BackfillReport:
    """Walk every Clerk user (oldest first), create missing ones, refresh stale ones, then tombstone the
    users we hold that Clerk no longer has (each confirmed with Clerk one by one before it is touched).

    Rows created after the walk began are never tombstoned: they came from live traffic. A user Clerk lists
    in a shape we cannot read is skipped and counted, never tombstoned, and does not stop the walk.
    """
    report = BackfillReport(dry_run=dry_run)
    async with database.connection() as conn:
        walk_started: datetime = await conn.fetchval("SELECT now()")
    seen: set[str] = set()
    offset = 0
    while True:
        page = await clerk.list_users(offset=offset, limit=page_size)
        await _apply_page(database, page.users, report, dry_run=dry_run)
        report.seen += len(page.unreadable)
        report.skipped += len(page.unreadable)
        seen.update(user.id for user in page.users)
        seen.update(page.unreadable)
        offset += page.listed
        on_progress(report)
        if page.listed < page_size:
            break

    async with database.connection() as conn:
        candidates = await store.live_clerk_ids_created_before(conn, walk_started)
    for clerk_id in sorted(set(candidates) - seen):
        try:
            confirmed = await clerk.get_user(clerk_id)
        except ClerkUserUnreadable:
            report.skipped += 1
            continue
        if confirmed is not None:  # listed late or skipped by a shifting offset: still alive
            await _apply_page(database, [confirmed], report, dry_run=dry_run)
            continue
        if dry_run:
            report.tombstoned += 1
            continue
        async with database.connection() as conn:
            report.tombstoned += await store.tombstone(conn, clerk_id, "backfill")
    on_progress(report)
    return report


async def _apply_page(database: Database, page: list[ClerkUser], report: BackfillReport, *, dry_run: bool) -> None:
    report.seen += len(page)
    profiles = [user.to_profile() for user in page]
    if dry_run:
        async with database.connection() as conn:
            stored = await store.freshness(conn, [profile.clerk_id for profile in profiles])
        for profile in profiles:
            if profile.clerk_id not in stored:
                report.created += 1
            elif store.would_refresh(stored[profile.clerk_id], profile):
                report.updated += 1
            else:
                report.unchanged += 1
        return
    async with database.transaction() as conn:
        for profile in profiles:
            written = await store.upsert_profile(conn, profile, "backfill")
            if written is None:
                report.unchanged += 1
            elif written[1]:
                report.created += 1
                USERS_CREATED.labels("backfill", "").inc()
            else:
                report.updated += 1
