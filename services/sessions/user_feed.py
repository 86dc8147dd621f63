"""Following identity's users' changes feed: a deletion reaches every row here, a ban or lock every room.

About once a second one replica (whichever locks the cursor row; the others skip that round) reads the next
page after its stored cursor and, in the same transaction that advances the cursor, applies each change:
- `deleted`: the user is removed from any live room of theirs (RoomService RemoveParticipant), then every row
  naming them is erased (interviews, and what identity last said about them) and their Clerk id alone is kept
  in `erased_users`, which refuses their starts from then on;
- `banned` / `locked`: removed from live rooms, and no longer allowed to start on a stale answer;
- `unbanned` / `unlocked`: allowed again.
A deletion, ban or lock takes the user's start lock first: a start racing it either went before (its room is
removed, its row erased) or comes after, and finds identity's earlier answer flagged, or the user erased (even
a start that asked identity just before the deletion). A failure rolls the page back, to be read again (the
changes are idempotent). LiveKit unreachable does not hold erasure back: the removal is counted and logged,
and the room still ends at `MAX_INTERVIEW_SECONDS`.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg

from libs.common.background import in_background
from libs.common.db import Database, DatabaseUnavailable
from services.sessions import store
from services.sessions.errors import IdentityUnavailable
from services.sessions.identity_client import IdentityClient, UserChange
from services.sessions.livekit_rooms import LiveKitRooms, LiveKitUnavailable
from services.sessions.metrics import USER_FEED_CHANGES, USER_FEED_LAG, USER_FEED_POLLS, USER_FEED_REMOVALS_FAILED

logger = logging.getLogger(__name__)

FEED = "identity-users"
PAGE = 100
POLL_SECONDS = 1.0
CURRENT_SECONDS = 5  # read to its end this recently, the feed has brought every ban and deletion but the last few
_FLAGS = {
    "banned": {"banned": True, "locked": None},
    "unbanned": {"banned": False, "locked": None},
    "locked": {"banned": None, "locked": True},
    "unlocked": {"banned": None, "locked": False},
}


async def remove_from_room(rooms: LiveKitRooms, room: str, clerk_id: str) -> None:
    """Disconnect a user who may no longer be there; LiveKit unavailable is counted and logged, not raised (the
    room still ends at `MAX_INTERVIEW_SECONDS`)."""
    try:
        await rooms.remove_participant(room, clerk_id)
    except LiveKitUnavailable as error:
        USER_FEED_REMOVALS_FAILED.inc()
        logger.warning("could not remove %s from room %s: %s", clerk_id, room, error)


async def _remove_from_rooms(conn: asyncpg.Connection, rooms: LiveKitRooms, clerk_id: str) -> None:
    for room in await store.open_rooms(conn, clerk_id):
        await remove_from_room(rooms, room, clerk_id)


async def apply_change(conn: asyncpg.Connection, rooms: LiveKitRooms, change: UserChange) -> None:
    """Apply one change of the feed, inside the caller's transaction."""
    if change.change in ("deleted", "banned", "locked"):
        await store.hold_user(conn, change.clerk_id)  # a start racing this one is in the rooms or refused
        await _remove_from_rooms(conn, rooms, change.clerk_id)
    if change.change == "deleted":
        erased = await store.erase_user(conn, change.clerk_id)
        logger.info("erased %s: %d interviews", change.clerk_id, erased)
    elif change.change in _FLAGS:
        await store.flag_user(conn, change.clerk_id, **_FLAGS[change.change])
    USER_FEED_CHANGES.labels(change.change).inc()
    USER_FEED_LAG.observe(max(0.0, (datetime.now(UTC) - change.at).total_seconds()))


async def follow_once(database: Database, identity: IdentityClient, rooms: LiveKitRooms) -> int | None:
    """Apply the next page of the feed; how many changes it held (None: another replica is reading it)."""
    async with database.transaction() as conn:
        cursor = await store.lock_feed_cursor(conn, FEED)
        if cursor is None:
            return None
        page = await identity.user_changes(cursor, PAGE)
        for change in page.items:
            await apply_change(conn, rooms, change)
        await store.save_feed_cursor(conn, FEED, page.next_cursor or cursor, at_end=len(page.items) < PAGE)
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


async def _follow_and_count(database: Database, identity: IdentityClient, rooms: LiveKitRooms, outage: _Outage) -> int:
    try:
        applied = await follow_once(database, identity, rooms)
    except IdentityUnavailable as error:
        USER_FEED_POLLS.labels("identity_unavailable").inc()
        outage.failure(error)
        return 0
    except DatabaseUnavailable:
        USER_FEED_POLLS.labels("database_unavailable").inc()
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
async def following(database: Database, identity: IdentityClient, rooms: LiveKitRooms) -> AsyncIterator[None]:
    """For the app's life: read the feed about once a second, at once again after a full page."""

    async def loop() -> None:
        outage = _Outage()
        while True:
            if await _follow_and_count(database, identity, rooms, outage) < PAGE:
                await asyncio.sleep(POLL_SECONDS)

    async with in_background(loop()):
        yield
