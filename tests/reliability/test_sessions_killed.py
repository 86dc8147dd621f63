"""Sessions killed (SIGKILL) in the middle of a load of starts, then restarted: the starts it never answered
leave no pile of interviews behind. Each user's next start gets their one unused interview back."""

import asyncio
import signal
from collections import Counter
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.rows import interview_rows
from tests.support.stack import Stack
from tests.support.waiting import eventually

USERS = 10


async def test_a_kill_mid_start_then_a_start_leaves_each_user_one_open_interview(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    users = [await clerk_user(clerk, email=f"killed{n}@example.com") for n in range(USERS)]
    tokens = [session_token(user["id"], lifetime_seconds=600) for user in users]
    statuses: list[int] = []
    cut_off: list[str] = []
    stop = asyncio.Event()

    async def worker(n: int, client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                response = await client.post("/api/livekit/connection-details", headers=bearer(tokens[n]))
            except httpx.TransportError as error:  # the process died under this request
                cut_off.append(repr(error))
                return
            statuses.append(response.status_code)

    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=30) as client:
        workers = [asyncio.create_task(worker(n, client)) for n in range(USERS)]

        async def busy() -> bool:
            return len(statuses) >= 50

        assert await eventually(busy)
        stack.sessions.kill(signal.SIGKILL)
        stop.set()
        await asyncio.gather(*workers)
        await asyncio.to_thread(stack.sessions.start)
        after = [await client.post("/api/livekit/connection-details", headers=bearer(token)) for token in tokens]

    open_per_user = Counter(
        row["clerk_id"]
        for row in await interview_rows(stack.database_urls["sessions"])
        if row["status"] in ("created", "active")
    )
    print(
        f"\nsessions killed mid-start: {len(cut_off)} starts cut off, then one start per user: "
        f"{sorted(set(open_per_user.values()))} open interview(s) per user"
    )
    assert set(statuses) == {200}
    assert cut_off, "the kill met no start in flight"
    assert [response.status_code for response in after] == [200] * USERS
    assert open_per_user == {user["id"]: 1 for user in users}
