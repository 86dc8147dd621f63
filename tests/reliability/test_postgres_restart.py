"""PostgreSQL restarted under a load of starts: no 500s, /readyz reports the outage while it lasts, and
both services recover without being restarted."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import EmbeddedPostgres, ServiceProcess, embedded_postgres
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer
from tests.support.stack import UNCAPPED, Stack, running_stack
from tests.support.waiting import eventually


@pytest.fixture
def outage_stack(
    tmp_path: Path, clerk_standin: ServiceProcess, svix_secret: str, clerk_keys: ClerkKeyPair
) -> Iterator[tuple[Stack, EmbeddedPostgres]]:
    with (
        embedded_postgres(tmp_path / "pgdata", keep_data=False) as server,
        running_stack(
            server, clerk_standin.url, svix_secret, clerk_keys, tmp_path, "outage", sessions_environment=UNCAPPED
        ) as stack,
    ):
        yield stack, server


RESTARTS = 20


async def test_postgres_restarted_again_and_again_under_load_answers_every_request(
    outage_stack: tuple[Stack, EmbeddedPostgres], clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    """Every request gets an answer, 200 or 503 with `Retry-After`, through 20 restarts in a row; /readyz says
    503 while PostgreSQL is down and 200 once it is back; starts succeed again within 5 s of each return."""
    stack, server = outage_stack
    users = [await clerk_user(clerk, email=f"pg{n}@example.com") for n in range(10)]
    tokens = [session_token(user["id"], lifetime_seconds=900) for user in users]
    statuses: list[tuple[float, int, str | None]] = []
    unanswered: list[str] = []
    stop = asyncio.Event()

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                response = await client.post("/api/livekit/connection-details", headers=bearer(tokens[n % 10]))
            except httpx.TransportError as error:  # the connection ended without an answer
                unanswered.append(repr(error))
                continue
            statuses.append((time.monotonic(), response.status_code, response.headers.get("retry-after")))
            await asyncio.sleep(0.02)

    async def ready() -> list[int]:
        return [(await client.get(f"{service.url}/readyz")).status_code for service in (stack.identity, stack.sessions)]

    ready_during: list[list[int]] = []
    ready_after: list[list[int]] = []
    recovery: list[float] = []
    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=30) as client:
        workers = [asyncio.create_task(worker(n, client)) for n in range(6)]
        for _ in range(RESTARTS):
            await asyncio.to_thread(server.stop)
            ready_during.append(await ready())
            await asyncio.to_thread(server.start)
            back = time.monotonic()

            async def started_again(since: float = back) -> bool:
                return any(at > since and status == 200 for at, status, _ in statuses)

            assert await eventually(started_again, within=5)
            recovery.append(time.monotonic() - back)
            assert await eventually(lambda: _all_ready(ready), within=5)
            ready_after.append(await ready())
        stop.set()
        await asyncio.gather(*workers)

    codes = [status for _, status, _ in statuses]
    print(
        f"\npostgres restarted {RESTARTS} times: {codes.count(200)} starts succeeded, {codes.count(503)} got 503, "
        f"{len(unanswered)} unanswered, others: {sorted({c for c in codes if c not in (200, 503)})}; starts back "
        f"within {max(recovery):.2f} s at worst"
    )
    assert unanswered == []
    assert set(codes) == {200, 503}  # never a 500
    assert all(retry_after and int(retry_after) > 0 for _, status, retry_after in statuses if status == 503)
    assert all(during == [503, 503] for during in ready_during)
    assert all(after == [200, 200] for after in ready_after)


async def _all_ready(ready: Callable[[], Awaitable[list[int]]]) -> bool:
    return await ready() == [200, 200]
