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

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg

from libs.common.background import in_background
from libs.common.db import Database, DatabaseUnavailable
from services.sessions import store
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
        await store.hold_user(conn, change.clerk_id)  # a start racing this one is in the rooms or refused
        await store.queue_room_removals(conn, change.clerk_id)
    if change.change == "deleted":
        erased = await store.erase_user(conn, change.clerk_id)
    elif change.change in _FLAGS:
        await store.flag_user(conn, change.clerk_id, **_FLAGS[change.change])
    return erased


async def follow_once(database: Database, identity: IdentityClient, holder: str) -> int | None:
    """Apply the next page of the feed; how many changes it held (None: another replica holds the feed)."""
    async with database.connection() as conn:
        cursor = await store.lease_feed(conn, FEED, holder, LEASE_SECONDS)
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
        if not await store.save_feed_cursor(
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


class _Outage:
    """Identity's feed unreachable: logged once it has lasted `QUIET_POLLS` polls (identity still starting up
    beside this process, or a blip, stays quiet; every failed poll is counted either way), then once a
    minute, and when it ends."""

    QUIET_POLLS = 3
    REPEAT_SECONDS = 60.0

    def __init__(self) -> None:
        self.failed = 0
        self._logged_at: float | None = None

    def failure(self, error: IdentityUnavailable) -> None:
        self.failed += 1
        now = time.monotonic()
        if self.failed >= self.QUIET_POLLS and (
            self._logged_at is None or now - self._logged_at >= self.REPEAT_SECONDS
        ):
            self._logged_at = now
            logger.warning("users' feed: %s (%d polls in a row)", error.detail, self.failed)

    def success(self) -> None:
        if self._logged_at is not None:
            logger.info("users' feed: identity answers again after %d failed polls", self.failed)
        self.failed, self._logged_at = 0, None


async def _follow_and_count(database: Database, identity: IdentityClient, holder: str, outage: _Outage) -> int:
    try:
        applied = await follow_once(database, identity, holder)
    except IdentityUnavailable as error:
        USER_FEED_POLLS.labels("identity_unavailable").inc()
        outage.failure(error)
        return 0
    except DatabaseUnavailable:
        USER_FEED_POLLS.labels("database_unavailable").inc()
        return 0
    except LeaseLost:
        USER_FEED_POLLS.labels("busy").inc()
        return 0
    except Exception:  # a bug must not stop following for the process's life
        USER_FEED_POLLS.labels("error").inc()
        logger.exception("users' feed: applying a page failed; it is read again next round")
        return 0
    if applied is not None:  # None: another replica read it, without a word from identity here
        outage.success()
    USER_FEED_POLLS.labels("busy" if applied is None else "ok").inc()
    return applied or 0


@contextlib.asynccontextmanager
async def following(database: Database, identity: IdentityClient) -> AsyncIterator[None]:
    """For the app's life: read the feed about once a second, at once again after a full page."""
    holder = f"{os.uname().nodename}/{os.getpid()}/{os.urandom(4).hex()}"[-64:]

    async def loop() -> None:
        outage = _Outage()
        while True:
            if await _follow_and_count(database, identity, holder, outage) < PAGE:
                await asyncio.sleep(POLL_SECONDS)

    async with in_background(loop()):
        yield
