"""Identity's users' feed, applied here (`feeds` follows it): a deletion reaches every row, a ban or lock every
room.

- `deleted`: every row naming the user is erased (interviews, what identity last said about them, their name on
  the invite they redeemed) and their Clerk id alone is kept in `erased_users`, which refuses their starts from
  then on;
- `banned` / `locked`: no longer allowed to start on a stale answer;
- `unbanned` / `unlocked`: allowed again.
A deletion, ban or lock also queues the user's removal from the rooms of their open interviews (`room_removals`,
carried out by every replica), in the same transaction: LiveKit being slow or down never holds erasure back, nor
anyone else's. Each of them takes the user's start lock first: a start racing it either went before (its room is
queued for removal, its row erased) or comes after, and finds identity's earlier answer flagged, or the user
erased (even a start that asked identity just before the deletion).
"""

import asyncpg

from libs.common.clerk_ids import is_clerk_user_id
from services.sessions.metrics import USER_FEED_CHANGES, USER_FEED_LAG, USER_FEED_POLLS
from services.sessions.rooms import removal_store as room_removal_store
from services.sessions.users import known_store as known_user_store
from services.sessions.users.feeds import Feed, Unreadable
from services.sessions.users.identity_client import FeedItem

_FLAGS = {
    "banned": {"banned": True, "locked": None},
    "unbanned": {"banned": False, "locked": None},
    "locked": {"banned": None, "locked": True},
    "unlocked": {"banned": None, "locked": False},
}


async def apply_change(conn: asyncpg.Connection, change: FeedItem) -> str | None:
    """Apply one change of the users' feed, inside the caller's transaction; for a deletion, what was erased."""
    clerk_id = change.clerk_id
    if clerk_id is None or not is_clerk_user_id(clerk_id):
        raise Unreadable("it names no Clerk user id")
    if change.change in ("deleted", "banned", "locked"):
        await known_user_store.hold_user(conn, clerk_id)  # a start racing this one is in the rooms or refused
        await room_removal_store.queue_room_removals(conn, clerk_id)
    if change.change == "deleted":
        erased = await known_user_store.erase_user(conn, clerk_id)
        return f"erased {clerk_id}: {erased} interviews"
    await known_user_store.flag_user(conn, clerk_id, **_FLAGS[change.change])
    return None


USERS_FEED = Feed(
    name="identity-users",
    path="/internal/users/changes",
    apply=apply_change,
    kinds=frozenset({"deleted", *_FLAGS}),
    polls=USER_FEED_POLLS,
    changes=USER_FEED_CHANGES,
    lag=USER_FEED_LAG,
)
