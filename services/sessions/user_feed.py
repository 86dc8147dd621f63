"""Following identity's users' changes feed: a deletion reaches every row here, a ban or lock every room.

About once a second one replica (whichever holds the feed's lease, a few seconds long and renewed each poll;
the others skip that round) reads the next page after its stored cursor, with no transaction open, then applies
the page in one short transaction that also advances the cursor (only if it still holds the lease and nobody
moved the cursor meanwhile; otherwise the page is rolled back, and read again by whoever holds it):
- `deleted`: every row naming the user is erased (interviews, and what identity last said about them) and their
  Clerk id alone is kept in `erased_users`, which refuses their starts from then on;
- `banned` / `locked`: no longer allowed to start on a stale answer;
- `unbanned` / `unlocked`: allowed again.
A deletion, ban or lock also queues the user's removal from the rooms of their open interviews
(`room_removals`, carried out by every replica), in the same transaction: LiveKit being slow or down never holds
erasure back, nor anyone else's. Each of them takes the user's start lock first: a start racing it either went
before (its room is queued for removal, its row erased) or comes after, and finds identity's earlier answer
flagged, or the user erased (even a start that asked identity just before the deletion). What was applied is
logged once the transaction has committed.
"""

import logging
import os
from datetime import UTC, datetime

import asyncpg

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from services.sessions import feed_store, known_user_store, room_removal_store
from services.sessions.errors import IdentityUnavailable
from services.sessions.identity_client import IdentityClient, UserChange
from services.sessions.metrics import USER_FEED_CHANGES, USER_FEED_LAG, USER_FEED_POLLS

logger = logging.getLogger(__name__)

FEED = "identity-users"
PAGE = 100
POLL_SECONDS = 1.0
LEASE_SECONDS = 5.0  # a replica that stops polling hands the feed over this long after its last poll
CURRENT_SECONDS = 5  # read to its end this recently, the feed has brought every ban and deletion but the last few
_FLAGS = {
    "banned": {"banned": True, "locked": None},
    "unbanned": {"banned": False, "locked": None},
    "locked": {"banned": None, "locked": True},
    "unlocked": {"banned": None, "locked": False},
}


class LeaseLost(Exception):
    """Another replica took the feed over (or moved its cursor) while this one applied a page."""


async def apply_change(conn: asyncpg.Connection, change: UserChange) -> int | None:
    """Apply one change of the feed, inside the caller's transaction; for a deletion, how many interviews were
    erased (None for the other changes)."""
    erased = None
    if change.change in ("deleted", "banned", "locked"):
        await known_user_store.hold_user(conn, change.clerk_id)  # a start racing this one is in the rooms or refused
        await room_removal_store.queue_room_removals(conn, change.clerk_id)
    if change.change == "deleted":
        erased = await known_user_store.erase_user(conn, change.clerk_id)
    elif change.change in _FLAGS:
        await known_user_store.flag_user(conn, change.clerk_id, **_FLAGS[change.change])
    return erased


async def follow_once(database: Database, identity: IdentityClient, holder: str) -> int | None:
    """Apply the next page of the feed; how many changes it held (None: another replica holds the feed)."""
    async with database.connection() as conn:
        cursor = await feed_store.lease_feed(conn, FEED, holder, LEASE_SECONDS)
    if cursor is None:
        return None
    page = await identity.user_changes(cursor, PAGE)
    erasures: list[tuple[str, int]] = []
    async with database.transaction() as conn:
        for change in page.items:
            erased = await apply_change(conn, change)
            if erased is not None:
                erasures.append((change.clerk_id, erased))
        at_end = len(page.items) < PAGE
        if not await feed_store.save_feed_cursor(
            conn, FEED, holder, read_from=cursor, cursor=page.next_cursor or cursor, at_end=at_end
        ):
            raise LeaseLost
    now = datetime.now(UTC)
    for change in page.items:
        USER_FEED_CHANGES.labels(change.change).inc()
        USER_FEED_LAG.observe(max(0.0, (now - change.at).total_seconds()))
    for clerk_id, interviews in erasures:
        logger.info("erased %s: %d interviews", clerk_id, interviews)
    return len(page.items)


def feed_task(database: Database, identity: IdentityClient) -> Periodic:
    """For the app's life: read the feed about once a second, at once again after a full page. Identity
    unreachable is told after a few polls in a row (identity still starting up beside this process, or a blip,
    stays quiet); every poll is counted by its outcome."""
    holder = f"{os.uname().nodename}/{os.getpid()}/{os.urandom(4).hex()}"[-64:]

    async def feed_round() -> float | None:
        try:
            applied = await follow_once(database, identity, holder)
        except LeaseLost:
            USER_FEED_POLLS.labels("busy").inc()
            return None
        except IdentityUnavailable:
            USER_FEED_POLLS.labels("identity_unavailable").inc()
            raise
        except DatabaseUnavailable:
            USER_FEED_POLLS.labels("database_unavailable").inc()
            raise
        except Exception:  # logged with its traceback by the runner; the page is read again next round
            USER_FEED_POLLS.labels("error").inc()
            raise
        USER_FEED_POLLS.labels("busy" if applied is None else "ok").inc()  # None: another replica holds the feed
        return 0 if applied == PAGE else None

    return Periodic(
        name="users_feed",
        run_round=feed_round,
        every_seconds=POLL_SECONDS,
        outages=(IdentityUnavailable, DatabaseUnavailable),
        quiet_failures=3,
    )
