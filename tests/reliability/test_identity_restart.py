"""Identity killed in the middle of a load of starts, then restarted: failures are 503 with Retry-After,
every interview row belongs to a successful response, and starts succeed again soon after the restart."""

import asyncio
import signal
import time
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.rows import interview_rows
from tests.support.stack import Stack


async def test_identity_killed_and_restarted_under_load(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    users = [await clerk_user(clerk, email=f"restart{n}@example.com") for n in range(10)]
    tokens = [session_token(user["id"], lifetime_seconds=600) for user in users]
    results: list[tuple[float, int, str | None]] = []
    rooms_answered: set[str] = set()
    stop = asyncio.Event()

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            response = await client.post("/api/livekit/connection-details", headers=bearer(tokens[n % 10]))
            results.append((time.monotonic(), response.status_code, response.headers.get("retry-after")))
            if response.status_code == 200:
                rooms_answered.add(response.json()["roomName"])
            await asyncio.sleep(0.01)

    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=30) as client:
        workers = [asyncio.create_task(worker(n, client)) for n in range(8)]
        await asyncio.sleep(1.0)
        stack.identity.kill(signal.SIGKILL)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(stack.identity.start)
        restarted = time.monotonic()
        await asyncio.sleep(5.0)
        stop.set()
        await asyncio.gather(*workers)

    successes = [r for r in results if r[1] == 200]
    failures = [r for r in results if r[1] != 200]
    first_success_after = min(at for at, status, _ in results if status == 200 and at > restarted)
    print(
        f"\nidentity restart: {len(successes)} starts succeeded, {len(failures)} got 503; "
        f"first success {first_success_after - restarted:.3f} s after identity was back"
    )
    assert failures, "the outage was not observed"
    assert {status for _, status, _ in failures} == {503}
    assert all(retry_after and int(retry_after) > 0 for _, _, retry_after in failures)
    # every row was handed to a client (a user's repeated starts get their unused interview back)
    assert {row["room_name"] for row in await interview_rows(stack.database_urls["sessions"])} == rooms_answered
    assert first_success_after - restarted < 5
