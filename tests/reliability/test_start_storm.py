"""A start storm: 500 concurrent starts for 50 users identity has never seen."""

import asyncio
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.rows import interview_rows, rows
from tests.support.stack import Stack


async def test_500_concurrent_starts_for_50_unknown_users_all_succeed_with_one_row_per_user(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    users = [await clerk_user(clerk, email=f"storm{n}@example.com") for n in range(50)]
    tokens = [session_token(user["id"], lifetime_seconds=600) for user in users]
    await clerk.put("/_standin/faults", json={"latency_seconds": 0.05})  # Clerk's real round trip, roughly

    async def start(n: int, client: httpx.AsyncClient) -> int:
        path = "/api/livekit/connection-details" if n % 2 else "/api/livekit/token"
        response = await client.post(path, headers=bearer(tokens[n % 50]))
        return response.status_code

    limits = httpx.Limits(max_connections=500)
    async with httpx.AsyncClient(base_url=stack.sessions.url, limits=limits, timeout=60) as client:
        statuses = await asyncio.gather(*(start(n, client) for n in range(500)))

    clerk_requests = (await clerk.get("/_standin/stats")).json()["requests"].get("get_user", 0)
    print(f"\nstart storm: statuses {sorted(set(statuses))}, Clerk get_user requests: {clerk_requests}")
    assert sorted(set(statuses)) == [200, 201]
    assert len(await rows(stack.database_urls["identity"])) == 50
    assert len(await interview_rows(stack.database_urls["sessions"])) == 50  # ten starts each, one interview
    assert clerk_requests <= 50  # one identity process: concurrent misses for a user share one request
