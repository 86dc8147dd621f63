"""The changes feeds: users' deletions, bans and locks, and organizations' deletions, each in commit order, for
downstream services to follow.

Each change is written by a trigger on `users` (or `organizations`), in the transaction of the write it describes
(a transactional outbox): none is lost, none is published for a write that rolled back. A feed is read in
(transaction id, position) order and only below the oldest transaction still in flight, so a row can never
appear behind a cursor a reader already holds: a reader that resumes from its last cursor misses nothing.
Delivery is at-least-once from the reader's side (it may re-read a page it did not finish).
"""

import re
import uuid
from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from libs.common.db import Database
from libs.common.errors import InvalidCursor
from services.identity import organization_store, store

Change = Literal["deleted", "banned", "unbanned", "locked", "unlocked"]
_CURSOR = re.compile(r"(\d{1,19})\.(\d{1,19})")
_MAX_BIGINT = 2**63 - 1


class UserChange(msgspec.Struct, frozen=True, kw_only=True):
    cursor: str
    clerk_id: str
    user_id: uuid.UUID
    change: Change
    at: datetime


class ChangesPage(msgspec.Struct, frozen=True):
    """`next_cursor`: where to resume (the last item's cursor; the one given when there is nothing new)."""

    items: list[UserChange]
    next_cursor: str | None


class OrganizationChange(msgspec.Struct, frozen=True, kw_only=True):
    cursor: str
    change: Literal["organization_deleted"]
    org_id: str
    at: datetime


class OrganizationChangesPage(msgspec.Struct, frozen=True):
    """As `ChangesPage`, for the organizations' feed."""

    items: list[OrganizationChange]
    next_cursor: str | None


def _position(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)
    match = _CURSOR.fullmatch(cursor)
    if match is None or max(int(match[1]), int(match[2])) > _MAX_BIGINT:
        raise InvalidCursor("The cursor is not one this feed returned.")
    return int(match[1]), int(match[2])


def _cursor(row: asyncpg.Record) -> str:
    return f"{row['xact']}.{row['position']}"


async def changes_after(database: Database, after: str | None, limit: int) -> ChangesPage:
    """Up to `limit` users' changes after the cursor `after` (from the beginning when empty), oldest first."""
    xact, position = _position(after)
    async with database.connection() as conn:
        found = await store.changes_after(conn, xact, position, limit)
    items = [
        UserChange(
            cursor=_cursor(row), clerk_id=row["clerk_id"], user_id=row["user_id"], change=row["change"], at=row["at"]
        )
        for row in found
    ]
    return ChangesPage(items=items, next_cursor=items[-1].cursor if items else after or None)


async def organization_changes_after(database: Database, after: str | None, limit: int) -> OrganizationChangesPage:
    """Up to `limit` organizations' changes after the cursor `after`, oldest first."""
    xact, position = _position(after)
    async with database.connection() as conn:
        found = await organization_store.changes_after(conn, xact, position, limit)
    items = [
        OrganizationChange(cursor=_cursor(row), change=row["change"], org_id=row["org_id"], at=row["at"])
        for row in found
    ]
    return OrganizationChangesPage(items=items, next_cursor=items[-1].cursor if items else after or None)
