"""A pool of asyncpg connections that costs a list pop and a push per use.

asyncpg's own pool wraps every connection in a proxy, returns it through a task of its own (`asyncio.shield`)
under a timeout, re-arms an inactivity timer and resets it: a sixth of identity's CPU per ensure-user call
(0.26 -> 0.21 ms measured side by side under the bench's load). `Database` needs less: connections made on
demand up to `max_size`, the most recently used one handed out first, a bounded wait when all are busy, a
bounded time lent, and never a connection in an unknown state given to the next caller.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

import asyncpg

IDLE_SECONDS = 60.0
"""A connection idle longer is closed rather than used: a firewall or NAT may have dropped it silently."""

logger = logging.getLogger(__name__)


class PoolClosed(asyncpg.InterfaceError):
    """The pool was closed (the service is shutting down)."""


class ConnectionPool:
    """At most `max_size` connections, each made by `connect` when first needed. Made in the event loop.

    `acquire` waits at most `wait_seconds` for a busy connection to come back (`TimeoutError`). `release` takes
    a connection back; `reusable=False` (its last use ended midway: cancelled, timed out, broken) closes it
    instead, and so does being inside a transaction or closed. A connection lent for longer than `lend_seconds`
    is closed under its holder, whose statement then fails (`asyncpg.InterfaceError`): the server stopped
    answering, or the holder is stuck. One watchdog checks every `lend_seconds / 4`, so no statement needs a
    timer of its own.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        max_size: int,
        *,
        wait_seconds: float,
        lend_seconds: float,
    ) -> None:
        self._connect = connect
        self.max_size = max_size
        self._wait_seconds = wait_seconds
        self._lend_seconds = lend_seconds
        self._idle: list[tuple[asyncpg.Connection, float]] = []  # (connection, when it came back), newest last
        self._lent: dict[asyncpg.Connection, float] = {}  # connection -> when it was lent
        self._size = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False
        self._watchdog = asyncio.get_running_loop().create_task(self._watch())

    @property
    def size(self) -> int:
        return self._size

    async def acquire(self) -> asyncpg.Connection:
        conn = await self._take()
        self._lent[conn] = time.monotonic()
        return conn

    async def _take(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise PoolClosed("the connection pool is closed")
            while self._idle:
                conn, since = self._idle.pop()
                if not conn.is_closed() and time.monotonic() - since < IDLE_SECONDS:
                    return conn
                self._discard(conn)
            if self._size < self.max_size:
                self._size += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._size -= 1
                    self._wake_one(None)
                    raise
            handed = await self._wait()
            if handed is not None:
                return handed
            # None: a connection was closed, so there is room to make one (or one came back meanwhile)

    async def _wait(self) -> asyncpg.Connection | None:
        waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._wait_seconds):
                return await waiter
        except BaseException:
            if not waiter.done():
                waiter.cancel()  # `_wake_one` skips it
            elif not waiter.cancelled() and waiter.exception() is None:
                # Timed out or cancelled just as a connection (or room for one) was handed over: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._wake_one(None)
                else:
                    self.release(handed, reusable=True)
            raise

    def release(self, conn: asyncpg.Connection, *, reusable: bool) -> None:
        self._lent.pop(conn, None)
        if self._closed or not reusable or conn.is_closed() or conn.is_in_transaction():
            self._discard(conn)
            self._wake_one(None)
            return
        if not self._wake_one(conn):
            self._idle.append((conn, time.monotonic()))

    def _wake_one(self, handed: asyncpg.Connection | None) -> bool:
        """Hand `handed` (None: room for a new connection) to the longest waiter; False if none waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(handed)
                return True
        return False

    def _discard(self, conn: asyncpg.Connection) -> None:
        conn.terminate()
        self._size -= 1

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._lend_seconds / 4)
            cutoff = time.monotonic() - self._lend_seconds  # lent before it: lent too long
            for conn, since in list(self._lent.items()):
                if since < cutoff and not conn.is_closed():
                    logger.warning("closed a database connection lent for over %.0f s", self._lend_seconds)
                    conn.terminate()  # its holder's statement fails; `release` then discards it

    async def close(self) -> None:
        """Close the idle connections, and each busy one when it comes back; waiters get `PoolClosed`."""
        self._closed = True
        self._watchdog.cancel()
        idle, self._idle = self._idle, []
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(PoolClosed("the connection pool is closed"))
        self._waiters.clear()
        for conn, _ in idle:
            self._size -= 1
            try:
                await asyncio.wait_for(conn.close(), timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
