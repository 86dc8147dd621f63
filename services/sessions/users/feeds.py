"""Following identity's changes feeds (users', organizations'): what identity applied reaches every row here.

About once a second one replica per feed (whichever holds that feed's lease, a few seconds long and renewed each
poll; the others skip that round) reads the next page after its stored cursor, with no transaction open, then
applies the page in one short transaction that also advances the cursor (only if it still holds the lease and
nobody moved the cursor meanwhile; otherwise the page is rolled back, and read again by whoever holds it). What
was applied is logged once the transaction has committed. A kind of change this release does not know is
skipped (logged once a process): identity may publish new kinds before every reader knows them.
"""

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from prometheus_client import Counter, Histogram

from libs.common.background import Periodic
from libs.common.db import Database, DatabaseUnavailable
from services.sessions.errors import IdentityUnavailable
from services.sessions.users import feed_store
from services.sessions.users.identity_client import FeedItem, IdentityClient

logger = logging.getLogger(__name__)

PAGE = 100
POLL_SECONDS = 1.0
LEASE_SECONDS = 5.0  # a replica that stops polling hands the feed over this long after its last poll
CURRENT_SECONDS = 5  # read to its end this recently, a feed has brought every change but the last few


class LeaseLost(Exception):
    """Another replica took the feed over (or moved its cursor) while this one applied a page."""


Apply = Callable[[asyncpg.Connection, FeedItem], Awaitable[str | None]]
"""Apply one change inside the page's transaction: what to log once it committed (None: nothing worth a line);
raises `Unreadable` for a change naming nothing it can apply."""


class Unreadable(Exception):
    """A change of a known kind without what it must name (skipped, logged once a process)."""


@dataclass(frozen=True)
class Feed:
    """One of identity's feeds: its cursor's row (`name`), where identity serves it, how each known kind of change
    is applied, and its signals."""

    name: str
    path: str
    apply: Apply
    kinds: frozenset[str]
    polls: Counter
    changes: Counter
    lag: Histogram | None = None
    _skipped: set[str] = field(default_factory=set, compare=False)

    def skip(self, item: FeedItem, why: str) -> None:
        if item.change not in self._skipped:
            self._skipped.add(item.change)
            logger.warning("%s: skipped a change of kind %r (%s); told once", self.name, item.change, why)


async def follow_once(feed: Feed, database: Database, identity: IdentityClient, holder: str) -> int | None:
    """Apply the next page of `feed`; how many changes it held (None: another replica holds the feed)."""
    async with database.connection() as conn:
        cursor = await feed_store.lease_feed(conn, feed.name, holder, LEASE_SECONDS)
    if cursor is None:
        return None
    page = await identity.changes(feed.path, cursor, PAGE)
    notes: list[str] = []
    async with database.transaction() as conn:
        for item in page.items:
            if item.change not in feed.kinds:
                feed.skip(item, "not a kind this release knows")
                continue
            try:
                note = await feed.apply(conn, item)
            except Unreadable as error:
                feed.skip(item, str(error))
                continue
            if note:
                notes.append(note)
        at_end = len(page.items) < PAGE
        if not await feed_store.save_feed_cursor(
            conn, feed.name, holder, read_from=cursor, cursor=page.next_cursor or cursor, at_end=at_end
        ):
            raise LeaseLost
    now = datetime.now(UTC)
    for item in page.items:
        feed.changes.labels(item.change).inc()
        if feed.lag is not None:
            feed.lag.observe(max(0.0, (now - item.at).total_seconds()))
    for note in notes:
        logger.info("%s", note)
    return len(page.items)


def feed_task(feed: Feed, database: Database, identity: IdentityClient) -> Periodic:
    """For the app's life: read `feed` about once a second, at once again after a full page. Identity
    unreachable is told after a few polls in a row (identity still starting up beside this process, or a blip,
    stays quiet); every poll is counted by its outcome."""
    holder = f"{os.uname().nodename}/{os.getpid()}/{os.urandom(4).hex()}"[-64:]

    async def feed_round() -> float | None:
        try:
            applied = await follow_once(feed, database, identity, holder)
        except LeaseLost:
            feed.polls.labels("busy").inc()
            return None
        except IdentityUnavailable:
            feed.polls.labels("identity_unavailable").inc()
            raise
        except DatabaseUnavailable:
            feed.polls.labels("database_unavailable").inc()
            raise
        except Exception:  # logged with its traceback by the runner; the page is read again next round
            feed.polls.labels("error").inc()
            raise
        feed.polls.labels("busy" if applied is None else "ok").inc()  # None: another replica holds the feed
        return 0 if applied == PAGE else None

    return Periodic(
        name=feed.name.replace("-", "_"),
        run_round=feed_round,
        every_seconds=POLL_SECONDS,
        outages=(IdentityUnavailable, DatabaseUnavailable),
        quiet_failures=3,
    )
