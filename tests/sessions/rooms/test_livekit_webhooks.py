"""LiveKit's webhooks move an interview created → active → ended; repeats and reordering are harmless.

(Signed here as LiveKit signs them; the same lifecycle driven by the LiveKit stand-in, with real processes,
is in tests/e2e/test_interview_lifecycle.py.)"""

from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.livekit import livekit_webhook, send_webhook
from tests.support.rows import interview_rows


async def started_room(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, token: Callable[..., str]
) -> tuple[str, str]:
    user = await clerk_user(clerk, email="lifecycle@example.com")
    response = await sessions.post("/api/livekit/connection-details", headers=bearer(token(user["id"])))
    return user["id"], response.json()["roomName"]


async def test_lifecycle_with_duplicates_and_reordering(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    clerk_id, room = await started_room(sessions, clerk, session_token)
    joined = livekit_webhook("participant_joined", room, identity=clerk_id, created_at=1_800_000_010)
    agent_left = livekit_webhook("participant_left", room, identity="agent-AJ_1", created_at=1_800_000_050)
    finished = livekit_webhook("room_finished", room, created_at=1_800_000_090)
    late_started = livekit_webhook("room_started", room, created_at=1_800_000_000)

    outcomes = [(await send_webhook(sessions, *event)).json()["outcome"] for event in (joined, joined, agent_left)]
    assert outcomes == ["applied", "duplicate", "ignored"]
    [row] = await interview_rows(sessions_db)
    assert row["status"] == "active"

    for event in (finished, late_started, joined, finished):
        assert (await send_webhook(sessions, *event)).status_code == 200

    [row] = await interview_rows(sessions_db)
    assert row["status"] == "ended"
    assert int(row["started_at"].timestamp()) == 1_800_000_010  # the candidate's join, not the room's start
    assert int(row["ended_at"].timestamp()) == 1_800_000_090


async def test_candidate_leaving_ends_the_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    clerk_id, room = await started_room(sessions, clerk, session_token)

    await send_webhook(sessions, *livekit_webhook("participant_joined", room, identity=clerk_id))
    await send_webhook(sessions, *livekit_webhook("participant_left", room, identity=clerk_id))

    [row] = await interview_rows(sessions_db)
    assert row["status"] == "ended"


async def test_unknown_rooms_are_acknowledged_and_ignored(sessions: httpx.AsyncClient, sessions_db: str):
    response = await send_webhook(sessions, *livekit_webhook("room_started", "someone-elses-room"))

    assert response.status_code == 200
    assert response.json() == {"outcome": "unknown_room"}
    assert await interview_rows(sessions_db) == []


async def test_unsigned_or_tampered_webhooks_are_401_and_change_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    _, room = await started_room(sessions, clerk, session_token)
    body, auth = livekit_webhook("room_finished", room)

    unsigned = await send_webhook(sessions, body, "")
    tampered = await send_webhook(sessions, body.replace(b"room_finished", b"room_started"), auth)
    wrong_key = await send_webhook(sessions, body, auth[:-4] + "AAAA")

    assert [r.status_code for r in (unsigned, tampered, wrong_key)] == [401, 401, 401]
    [row] = await interview_rows(sessions_db)
    assert row["status"] == "created"
