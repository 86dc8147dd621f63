"""Reading interviews: a user's own, newest first, paged by cursor with no gaps or repeats."""

import uuid
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer


async def start(sessions: httpx.AsyncClient, token: str) -> str:
    response = await sessions.post("/api/livekit/connection-details", headers=bearer(token))
    assert response.status_code == 200
    return response.json()["roomName"]


async def test_pages_cover_every_interview_once_newest_first(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    owner = await clerk_user(clerk, email="pager@example.com")
    other = await clerk_user(clerk, email="other@example.com")
    token = session_token(owner["id"])
    started = [await start(sessions, token) for _ in range(23)]
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
