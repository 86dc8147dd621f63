"""The PostgreSQL pool a service owns for its lifetime, and the translation of outages into 503s."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from libs.common.errors import ServiceUnavailable
from libs.common.pool import ConnectionPool

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, socket file gone
    TimeoutError,  # waiting for a pooled connection, or connecting
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


def rows_affected(status: str) -> int:
    """How many rows a statement touched, from the command status asyncpg's `execute` returns
    ("DELETE 3", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[1])


class DatabaseUnavailable(ServiceUnavailable):
    slug = "database-unavailable"


class Database:
    """A pool of PostgreSQL connections opened in the app's lifespan; it starts even while PostgreSQL is down.

    Connections are made on demand, so a service comes up, reports not-ready on `/readyz`, and recovers by
    itself when PostgreSQL returns. Every use goes through `connection()`, which turns a connection-level
    failure into `DatabaseUnavailable` (503 + Retry-After); nothing half-written survives because writes that
    belong together run in one transaction.

    A connection goes back to the pool as it is, without a reset round trip, so no session state may be left
    on one: no LISTEN, no session-level `SET` or advisory lock (use `SET LOCAL` and `pg_advisory_xact_lock`,
    which end with the transaction).
    """

    def __init__(self, url: str, *, max_size: int = 10, statement_timeout: float = 5.0) -> None:
        self.url = url
        self.max_size = max_size
        self.statement_timeout = statement_timeout
        self._pool: ConnectionPool | None = None

    async def open(self) -> None:
        # Waiting for a busy connection and connecting are bounded by `statement_timeout`; each statement too,
        # by the server (`_connect`); a connection is lent for twice that at most, whatever the server does.
        self._pool = ConnectionPool(
            self._connect,
            self.max_size,
            wait_seconds=self.statement_timeout,
            lend_seconds=2 * self.statement_timeout,
        )

    async def _connect(self) -> asyncpg.Connection:
        # The server ends a statement running longer (`QueryCanceledError`, a 503). asyncpg's `command_timeout`
        # would do it from here at the cost of a timer armed and cancelled around every statement: about 7% of
        # identity's CPU per ensure-user call, measured side by side. The pool's watchdog covers a server that
        # stops answering.
        timeout_ms = str(round(self.statement_timeout * 1000))
        return await asyncpg.connect(
            self.url, timeout=self.statement_timeout, server_settings={"statement_timeout": timeout_ms}
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; outages and timeouts surface as `DatabaseUnavailable`."""
        pool = self._pool
        assert pool is not None, "Database.open() was not called (is the app's lifespan running?)"
        try:
            conn = await pool.acquire()
            try:
                yield conn
            except BaseException as error:
                # Still in step with the server only after an error it reported, or one of ours between
                # statements; after a broken connection, a timeout or a cancellation it may be mid-statement.
                pool.release(conn, reusable=isinstance(error, Exception) and not isinstance(error, TRANSIENT_ERRORS))
                raise
            pool.release(conn, reusable=True)
        except TRANSIENT_ERRORS as error:
            logger.warning("database unavailable: %s: %s", type(error).__name__, error)
            raise DatabaseUnavailable("The database is unavailable; retry shortly.") from error

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
