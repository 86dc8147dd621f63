"""PostgreSQL restarted under a load of starts: no 500s, /readyz reports the outage while it lasts, and
both services recover without being restarted."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import EmbeddedPostgres, ServiceProcess, embedded_postgres
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer
from tests.support.stack import UNCAPPED, Stack, running_stack


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


async def test_postgres_restart_under_load(
    outage_stack: tuple[Stack, EmbeddedPostgres], clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    stack, server = outage_stack
    users = [await clerk_user(clerk, email=f"pg{n}@example.com") for n in range(10)]
    tokens = [session_token(user["id"], lifetime_seconds=600) for user in users]
    statuses: list[tuple[float, int, str | None]] = []
    stop = asyncio.Event()

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            response = await client.post("/api/livekit/connection-details", headers=bearer(tokens[n % 10]))
            statuses.append((time.monotonic(), response.status_code, response.headers.get("retry-after")))
            await asyncio.sleep(0.02)

    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=30) as client:
        workers = [asyncio.create_task(worker(n, client)) for n in range(6)]
        await asyncio.sleep(1.0)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(1.0)
        ready_during = [
            (await client.get(f"{service.url}/readyz")).status_code for service in (stack.identity, stack.sessions)
        ]
        await asyncio.to_thread(server.start)
        back = time.monotonic()
        await asyncio.sleep(4.0)
        ready_after = [
            (await client.get(f"{service.url}/readyz")).status_code for service in (stack.identity, stack.sessions)
        ]
        stop.set()
        await asyncio.gather(*workers)

    codes = [status for _, status, _ in statuses]
    recovered = [at for at, status, _ in statuses if status == 200 and at > back]
    print(
        f"\npostgres restart: {codes.count(200)} starts succeeded, {codes.count(503)} got 503, others: "
        f"{sorted({c for c in codes if c not in (200, 503)})}; first success {recovered[0] - back:.3f} s after"
    )
    assert ready_during == [503, 503]
    assert ready_after == [200, 200]
    assert set(codes) == {200, 503}  # never a 500
    assert all(retry_after and int(retry_after) > 0 for _, status, retry_after in statuses if status == 503)
    assert recovered
    assert recovered[0] - back < 5
