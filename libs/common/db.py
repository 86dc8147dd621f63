"""The PostgreSQL pool a service owns for its lifetime, and the translation of outages into 503s."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg

from libs.common.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, socket file gone
    TimeoutError,  # pool acquire or statement timeout
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # connection closed underneath us
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash recovery
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    # A pooled connection whose server went away mid-protocol (seen on a fast shutdown of PostgreSQL).
    asyncpg.InternalClientError,
)


async def _keep_session(_: asyncpg.Connection) -> None:
    """What the pool runs on a connection it takes back, after asyncpg has rolled back any open transaction.

    asyncpg's default also closes cursors, unlistens, releases advisory locks and resets settings: a round
    trip on every release (a tenth of identity's CPU on ensure-user). None of that state is ever made here;
    keep it so: no LISTEN, no session-level `SET` or advisory lock (use `SET LOCAL` and
    `pg_advisory_xact_lock`, which end with the transaction).
    """


def rows_affected(status: str) -> int:
    """How many rows a statement touched, from the command status asyncpg's `execute` returns
    ("DELETE 3", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[1])


class DatabaseUnavailable(ServiceUnavailable):
    slug = "database-unavailable"


class Database:
    """An asyncpg pool opened in the app's lifespan; it starts even while PostgreSQL is down.

    Connections are made on demand (`min_size=0`), so a service comes up, reports not-ready on `/readyz`,
    and recovers by itself when PostgreSQL returns. Every use goes through `connection()`, which turns a
    connection-level failure into `DatabaseUnavailable` (503 + Retry-After); nothing half-written survives
    because writes that belong together run in one transaction.
    """

    def __init__(self, url: str, *, max_size: int = 10, statement_timeout: float = 5.0) -> None:
        self.url = url
        self.max_size = max_size
        self.statement_timeout = statement_timeout
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            dsn=self.url,
            min_size=0,
            max_size=self.max_size,
            command_timeout=self.statement_timeout,
            timeout=self.statement_timeout,  # to connect
            max_inactive_connection_lifetime=60,
            reset=_keep_session,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.wait_for(self._pool.close(), timeout=10)
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; outages and timeouts surface as `DatabaseUnavailable`."""
        assert self._pool is not None, "Database.open() was not called (is the app's lifespan running?)"
        try:
            conn = await self._acquire(self._pool)
            try:
                yield cast(asyncpg.Connection, conn)  # a pool proxy that behaves as the connection
            except TRANSIENT_ERRORS:
                conn.terminate()  # never hand a possibly broken connection to the next request
                raise
            finally:
                await self._pool.release(conn)  # shielded by asyncpg
        except TRANSIENT_ERRORS as error:
            logger.warning("database unavailable: %s: %s", type(error).__name__, error)
            raise DatabaseUnavailable("The database is unavailable; retry shortly.") from error

    async def _acquire(self, pool: asyncpg.Pool) -> asyncpg.pool.PoolConnectionProxy:
        """A connection within `statement_timeout`. A connected one lying idle is taken at once, and a new one
        is made within the pool's connect timeout: only waiting for a busy one to be freed needs a deadline of
        ours. Not acquire(timeout=), which runs every acquire as a task of its own (a tenth of a webhook's CPU);
        awaited in this task, the deadline can only land where asyncpg waits, and asyncpg then puts the
        connection back."""
        if pool.get_idle_size():
            return await pool.acquire()
        async with asyncio.timeout(self.statement_timeout):
            return await pool.acquire()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection inside one transaction: committed when the block ends, rolled back on any error."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    async def is_reachable(self) -> bool:
        try:
            async with self.connection() as conn:
                await conn.fetchval("SELECT 1", timeout=2)
        except DatabaseUnavailable:
            return False
        return True
