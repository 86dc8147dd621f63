"""`libs.common.db.Database` (asyncpg's pool as both services configure it) on a real PostgreSQL: reuse, its
bound, bounded waits, hand-over, outages as 503s, and never a connection in an unknown state given to the next
caller."""

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from libs.common.db import Database, DatabaseUnavailable
from tests.support.waiting import eventually


@pytest.fixture
async def database(identity_db: str) -> AsyncIterator[Database]:
    database = Database(identity_db, max_size=2, statement_timeout=1.0)
    await database.open()
    yield database
    await database.close()


async def backend_pid(database: Database) -> int:
    async with database.connection() as conn:
        pid: int = await conn.fetchval("SELECT pg_backend_pid()")
    return pid


async def hold(database: Database, release: asyncio.Event, pids: list[int]) -> None:
    """Hold one connection (its backend's pid noted in `pids`) until `release` is set."""
    async with database.connection() as conn:
        pids.append(await conn.fetchval("SELECT pg_backend_pid()"))
        await release.wait()


async def until(check: Callable[[], bool]) -> bool:
    async def condition() -> bool:
        return check()

    return await eventually(condition)


def opened(database: Database) -> int:
    """Connections the pool holds open now."""
    pool = database._pool
    assert pool is not None
    return int(pool.get_size())


async def test_one_connection_serves_one_caller_after_another(database: Database):
    pids = {await backend_pid(database) for _ in range(5)}

    assert len(pids) == 1
    assert opened(database) == 1


async def test_never_more_than_max_size_connections_and_waiters_are_handed_the_released_one(database: Database):
    release = asyncio.Event()
    pids: list[int] = []
    holders = [asyncio.create_task(hold(database, release, pids)) for _ in range(5)]
    assert await until(lambda: len(pids) == 2)
    assert opened(database) == 2  # the other three wait
    release.set()
    await asyncio.gather(*holders)

    assert len(pids) == 5
    assert len(set(pids)) == 2
    assert opened(database) == 2


async def test_waiting_for_a_connection_is_bounded_by_a_503(database: Database):
    release = asyncio.Event()
    holders = [asyncio.create_task(hold(database, release, [])) for _ in range(2)]
    assert await until(lambda: opened(database) == 2)

    with pytest.raises(DatabaseUnavailable):
        await backend_pid(database)  # waits statement_timeout (1 s) for one of the two

    release.set()
    await asyncio.gather(*holders)
    assert await backend_pid(database) > 0


async def test_a_statement_cancelled_midway_is_cancelled_on_the_server_before_the_connection_is_reused(
    database: Database,
):
    started = asyncio.Event()

    async def slow() -> None:
        async with database.connection() as conn:
            started.set()
            await conn.execute("SELECT pg_sleep(30)")

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.1)  # the statement is on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with database.connection() as conn:
        assert not conn.is_in_transaction()
        sleeping = await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")
    assert sleeping == 0
    assert opened(database) == 1


async def test_a_statement_running_past_the_statement_timeout_is_ended_by_the_server_with_a_503(database: Database):
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as raised:
        async with database.connection() as conn:
            await conn.execute("SELECT pg_sleep(30)")

    assert isinstance(raised.value.__cause__, asyncpg.QueryCanceledError)
    assert time.monotonic() - started < 10  # the statement timeout is 1 s
    assert await backend_pid(database) > 0


async def test_a_connection_whose_server_stops_answering_is_closed_with_a_503(database: Database):
    """A frozen backend (SIGSTOP) cannot end its statement: the pool closes the connection lent too long."""
    frozen = await backend_pid(database)
    os.kill(frozen, signal.SIGSTOP)
    try:
        with pytest.raises(DatabaseUnavailable):
            # lent for 2 s at most (twice the statement timeout); the outer bound (a TimeoutError, not a 503)
            # only keeps a pool without that limit from hanging the suite
            await asyncio.wait_for(backend_pid(database), timeout=30)
    finally:
        os.kill(frozen, signal.SIGCONT)

    assert await backend_pid(database) != frozen
    assert opened(database) == 1


async def test_a_transaction_left_open_is_rolled_back_before_the_connection_is_reused(database: Database):
    async with database.connection() as conn:
        await conn.execute("BEGIN")  # and never COMMIT
        await conn.execute("CREATE TABLE left_open (id int)")

    async with database.connection() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('left_open')") is None


async def test_an_error_the_server_reports_keeps_the_connection(database: Database):
    first = await backend_pid(database)
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with database.connection() as conn:
            await conn.fetchval("SELECT 1 / 0")

    assert await backend_pid(database) == first


async def test_a_connection_the_server_closed_while_idle_is_replaced(database: Database, identity_db: str):
    first = await backend_pid(database)
    admin = await asyncpg.connect(identity_db)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", first)

        async def gone() -> bool:
            return not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", first)

        assert await eventually(gone)
    finally:
        await admin.close()

    assert await backend_pid(database) != first
    assert opened(database) == 1


async def test_a_connection_idle_too_long_is_replaced(identity_db: str):
    database = Database(identity_db, max_size=2, idle_seconds=0.2)
    await database.open()
    try:
        first = await backend_pid(database)
        assert await until(lambda: opened(database) == 0)

        assert await backend_pid(database) != first
        assert opened(database) == 1
    finally:
        await database.close()


async def test_closing_refuses_new_uses_with_a_503_and_waits_for_the_connection_in_use(identity_db: str):
    database = Database(identity_db, max_size=1, statement_timeout=5.0)
    await database.open()
    release = asyncio.Event()
    pids: list[int] = []
    holder = asyncio.create_task(hold(database, release, pids))
    assert await until(lambda: len(pids) == 1)
    closing = asyncio.create_task(database.close())
    await asyncio.sleep(0)  # the close task's first step runs: the pool is taken out of use

    with pytest.raises(DatabaseUnavailable):
        await backend_pid(database)
    assert not closing.done()  # the holder's statement is not cut off
    release.set()
    await holder
    await closing


async def test_the_pool_opens_while_postgresql_is_down_and_answers_503(tmp_path):
    database = Database(f"postgresql://postgres@/postgres?host={tmp_path}", max_size=1, statement_timeout=1.0)
    await database.open()
    try:
        assert not await database.is_reachable()
        with pytest.raises(DatabaseUnavailable):
            await backend_pid(database)
    finally:
        await database.close()
