"""The PostgreSQL pool a service owns for its lifetime (asyncpg's own), and the translation of outages into 503s."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from libs.common.errors import ServiceUnavailable
from libs.common.outage import Outage

logger = logging.getLogger(__name__)

NO_NUL = "^[^\x00]*$"
"""A msgspec pattern for a string stored in PostgreSQL's `text`, which cannot hold NUL."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, socket file gone
    TimeoutError,  # waiting for a pooled connection, connecting, or a statement past its bound
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # connection closed underneath us
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash recovery, statement timeout
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    # A pooled connection whose server went away mid-protocol (seen on a fast shutdown of PostgreSQL).
    asyncpg.InternalClientError,
)

IDLE_SECONDS = 60.0
"""A connection idle longer is closed: a firewall or NAT may have dropped it silently."""


def rows_affected(status: str) -> int:
    """How many rows a statement touched, from the command status asyncpg's `execute` returns
    ("DELETE 3", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[1])


class DatabaseUnavailable(ServiceUnavailable):
    slug = "database-unavailable"


async def _keep_session(_: asyncpg.Connection) -> None:
    """The pool's reset, beyond the rollback of a transaction left open that asyncpg always does: nothing.

    asyncpg's default sends `RESET ALL`, `UNLISTEN *`, ... on every release, a round trip per use, for session
    state this code never leaves behind: no LISTEN, no session-level `SET` or advisory lock (`SET LOCAL` and
    `pg_advisory_xact_lock` end with their transaction)."""


async def _release(pool: asyncpg.Pool, conn: PoolConnectionProxy) -> None:
    """Back to the pool; a connection that cannot be rolled back there is closed by asyncpg, which is all a
    broken one needs (the caller's own outcome stands)."""
    try:
        await pool.release(conn)
    except TRANSIENT_ERRORS as error:
        logger.debug("closed a connection that could not be released: %s", type(error).__name__)


class Database:
    """asyncpg's connection pool, opened in the app's lifespan; it opens even while PostgreSQL is down.

    Connections are made on demand (`min_size=0`), so a service comes up, reports not-ready on `/readyz`, and
    recovers by itself when PostgreSQL returns. Every use goes through `connection()`, which turns a
    connection-level failure into `DatabaseUnavailable` (503 + Retry-After); nothing half-written survives
    because writes that belong together run in one transaction, and no transaction is held across a call to
    another service. Bounds: waiting for a connection (`statement_timeout`), each statement on the server
    (PostgreSQL's `statement_timeout`, which ends it cleanly) and, for a server that stops answering at all,
    on the client at twice that (asyncpg's `command_timeout`).
    """

    def __init__(
        self, url: str, *, max_size: int = 10, statement_timeout: float = 5.0, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        self.url = url
        self.idle_seconds = idle_seconds
        self.max_size = max_size
        self.statement_timeout = statement_timeout
        self._pool: asyncpg.Pool | None = None
        self._outage = Outage(logger, "database")

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=0,
            max_size=self.max_size,
            max_inactive_connection_lifetime=self.idle_seconds,
            reset=_keep_session,
            timeout=self.statement_timeout,  # connecting
            command_timeout=2 * self.statement_timeout,
            server_settings={"statement_timeout": str(round(self.statement_timeout * 1000))},
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=self.statement_timeout)
            except TRANSIENT_ERRORS:
                pool.terminate()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; outages and timeouts surface as `DatabaseUnavailable`."""
        pool = self._pool
        if pool is None:
            raise DatabaseUnavailable("The database pool is closed (the service is stopping).")
        try:
            if pool.get_idle_size():  # a connection is free: taken at once, no wait to bound
                conn = await pool.acquire()
            else:
                async with asyncio.timeout(self.statement_timeout):
                    conn = await pool.acquire()
        except TRANSIENT_ERRORS as error:
            raise self._unavailable(error) from error
        try:
            # The pool's proxy forwards every method to the connection it lends (and refuses them once it is
            # released): to the code using it, it is a Connection.
            yield cast(asyncpg.Connection, conn)
        except TRANSIENT_ERRORS as error:
            raise self._unavailable(error) from error
        finally:
            await _release(pool, conn)
        self._outage.succeeded()

    def _unavailable(self, error: BaseException) -> DatabaseUnavailable:
        """The 503 for a use that met `error`; the outage is logged once however many uses meet it."""
        self._outage.failed(f"{type(error).__name__}: {error}")
        return DatabaseUnavailable("The database is unavailable; retry shortly.")

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
