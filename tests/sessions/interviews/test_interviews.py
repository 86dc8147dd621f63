"""Reading interviews: a user's own, newest first, paged by cursor with no gaps or repeats."""

import asyncio
import uuid
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.livekit import report_join
from tests.support.rows import interview_rows, rows


async def start(sessions: httpx.AsyncClient, token: str, agent: str = "interviewer") -> str:
    body = {"room_config": {"agents": [{"agent_name": agent}]}}
    response = await sessions.post("/api/livekit/connection-details", json=body, headers=bearer(token))
    assert response.status_code == 200
    return response.json()["roomName"]


async def start_and_join(sessions: httpx.AsyncClient, token: str, clerk_id: str) -> str:
    """A start whose candidate then joined: the next start makes another interview (an unused one is reused)."""
    room = await start(sessions, token)
    await report_join(sessions, room, clerk_id)
    return room


async def test_pages_cover_every_interview_once_newest_first(
    roomy_sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    sessions = roomy_sessions
    owner = await clerk_user(clerk, email="pager@example.com")
    other = await clerk_user(clerk, email="other@example.com")
    token = session_token(owner["id"])
    started = [await start_and_join(sessions, token, owner["id"]) for _ in range(23)]
    await start(sessions, session_token(other["id"]))

    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = (await sessions.get("/api/interviews", params=params, headers=bearer(token))).json()
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert [item["room_name"] for item in seen] == list(reversed(started))  # newest first, no gaps, no repeats
    stamps = [(item["created_at"], item["id"]) for item in seen]
    assert stamps == sorted(stamps, reverse=True)


async def test_reading_one_interview_and_someone_elses_is_404(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    owner = await clerk_user(clerk, email="reader@example.com")
    snoop = await clerk_user(clerk, email="snoop@example.com")
    room = await start(sessions, session_token(owner["id"]))
    listing = await sessions.get("/api/interviews", headers=bearer(session_token(owner["id"])))
    interview_id = listing.json()["items"][0]["id"]

    mine = await sessions.get(f"/api/interviews/{interview_id}", headers=bearer(session_token(owner["id"])))
    theirs = await sessions.get(f"/api/interviews/{interview_id}", headers=bearer(session_token(snoop["id"])))
    missing = await sessions.get(f"/api/interviews/{uuid.uuid4()}", headers=bearer(session_token(owner["id"])))

    assert mine.status_code == 200
    assert (mine.json()["room_name"], mine.json()["status"]) == (room, "created")
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert theirs.json()["title"] == "Interview not found"


async def test_bad_cursor_and_limit_are_400(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="cursor@example.com")
    headers = bearer(session_token(user["id"]))

    bad_cursor = await sessions.get("/api/interviews", params={"cursor": "definitely-not"}, headers=headers)
    bad_limit = await sessions.get("/api/interviews", params={"limit": 0}, headers=headers)

    assert (bad_cursor.status_code, bad_limit.status_code) == (400, 400)
    assert bad_cursor.headers["content-type"].startswith("application/problem+json")


async def test_expired_interviews_are_listed_only_when_asked_for(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    owner = await clerk_user(clerk, email="lister@example.com")
    token = session_token(owner["id"])
    used = await start_and_join(sessions, token, owner["id"])
    unused = await start(sessions, token)
    await rows(sessions_db, "UPDATE interviews SET status = 'expired' WHERE room_name = $1", unused)

    async def listed(params: list[tuple[str, str]]) -> list[str]:
        response = await sessions.get("/api/interviews", params=params, headers=bearer(token))
        assert response.status_code == 200
        return [item["room_name"] for item in response.json()["items"]]

    assert await listed([]) == [used]
    assert await listed([("status", "expired")]) == [unused]
    assert await listed([("status", "expired"), ("status", "active")]) == [unused, used]
    refused = await sessions.get("/api/interviews", params={"status": "lost"}, headers=bearer(token))
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"


async def test_open_interviews_are_capped_and_a_rejoin_never_counts(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    owner = await clerk_user(clerk, email="capped@example.com")
    headers = bearer(session_token(owner["id"]))
    rooms = [await start_and_join(sessions, session_token(owner["id"]), owner["id"]) for _ in range(2)]
    rooms.append(await start(sessions, session_token(owner["id"]), agent="coach"))  # the default cap: 3, one unused

    refused = await sessions.post("/api/livekit/connection-details", headers=headers)  # no unused one to reuse
    rejoined = await sessions.post("/api/livekit/token", json={"room_name": rooms[0]}, headers=headers)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    # when the first unused interview's recorded expiry passes: its token's, rounded up to the 30 s reuse window
    assert 800 < int(refused.headers["retry-after"]) <= 900 + 30
    assert rejoined.status_code == 201
    assert len(await interview_rows(sessions_db)) == 3

    # an interview that ended (or expired) frees its place
    await rows(sessions_db, "UPDATE interviews SET status = 'ended' WHERE room_name = $1", rooms[1])
    assert (await sessions.post("/api/livekit/connection-details", headers=headers)).status_code == 200


async def test_concurrent_starts_cannot_pass_the_cap_together(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    owner = await clerk_user(clerk, email="racer@example.com")
    headers = bearer(session_token(owner["id"]))
    for _ in range(2):
        await start_and_join(sessions, session_token(owner["id"]), owner["id"])  # one place left under the cap
    agents = ["interviewer", "coach"] * 6

    responses = await asyncio.gather(
        *(
            sessions.post(
                "/api/livekit/connection-details",
                json={"room_config": {"agents": [{"agent_name": agent}]}},
                headers=headers,
            )
            for agent in agents
        )
    )

    pairs = list(zip(agents, responses, strict=True))
    by_agent = {agent: {response.status_code for a, response in pairs if a == agent} for agent in agents}
    assert sorted(by_agent.values(), key=sorted) == [{200}, {429}]  # one agent's starts won the place; one row
    assert len(await interview_rows(sessions_db)) == 3
