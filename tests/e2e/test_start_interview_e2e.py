"""End to end: both services as real processes on loopback, the Clerk stand-in as Clerk."""

import json
from collections.abc import Callable

import httpx

from tests.support.clerk import clerk_user
from tests.support.credentials import CLERK_SECRET_KEY, INTERNAL_TOKEN, LIVEKIT_SECRET, bearer
from tests.support.livekit import verify_livekit_token
from tests.support.rows import interview_rows
from tests.support.stack import Stack


async def test_new_user_starts_an_interview_across_both_processes_with_one_request_id_and_clean_logs(
    own_stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str], svix_secret: str
):
    user = await clerk_user(clerk, email="e2e.person@example.com", first_name="Grace", last_name="Hopper")
    token = session_token(user["id"])

    async with httpx.AsyncClient(base_url=own_stack.sessions.url, timeout=10) as sessions:
        response = await sessions.post(
            "/api/livekit/connection-details",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-start-0001"},
        )
        listing = await sessions.get("/api/interviews", headers=bearer(token))

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "e2e-start-0001"
    claims = verify_livekit_token(response.json()["participantToken"])
    assert (claims.identity, claims.name) == (user["id"], "Grace Hopper")
    assert claims.video is not None
    assert claims.video.room == response.json()["roomName"]
    assert [agent.agent_name for agent in claims.room_config.agents] == ["interviewer"]
    assert [item["room_name"] for item in listing.json()["items"]] == [response.json()["roomName"]]
    async with httpx.AsyncClient(base_url=own_stack.identity.url) as identity:
        stored = await identity.get(f"/internal/users/{user['id']}", headers=bearer(INTERNAL_TOKEN))
    assert stored.json()["user"]["created_via"] == "ensure"

    own_stack.sessions.stop()
    own_stack.identity.stop()
    lines = {
        name: [json.loads(line) for line in process.logs().splitlines() if line.startswith("{")]
        for name, process in (("sessions", own_stack.sessions), ("identity", own_stack.identity))
    }
    for name, route in (("sessions", "/api/livekit/connection-details"), ("identity", "/internal/users/ensure")):
        assert any(line.get("request_id") == "e2e-start-0001" and line.get("route") == route for line in lines[name]), (
            f"{name} logged no {route} line with the caller's request id"
        )
    everything = own_stack.sessions.logs() + own_stack.identity.logs()
    for secret in (INTERNAL_TOKEN, CLERK_SECRET_KEY, svix_secret, LIVEKIT_SECRET, token, "e2e.person@example.com"):
        assert secret not in everything


async def test_identity_stopped_means_503_and_no_interview(
    own_stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="e2e.outage@example.com")
    own_stack.identity.stop()

    async with httpx.AsyncClient(base_url=own_stack.sessions.url, timeout=10) as sessions:
        response = await sessions.post("/api/livekit/token", headers=bearer(session_token(user["id"])))

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await interview_rows(own_stack.database_urls["sessions"]) == []


async def test_a_user_s_starts_are_found_in_the_logs_by_their_id_alone(
    own_stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    """ "I can't start my interview": every start's access line names the user, the interview and what the start
    did, or the refusal's problem type; identity's line says whom it ensured and whether it created them."""
    user = await clerk_user(clerk, email="findme@example.com", first_name="Find", last_name="Me")
    someone_else = await clerk_user(clerk, email="else@example.com")
    mine = bearer(session_token(user["id"]))

    async with httpx.AsyncClient(base_url=own_stack.sessions.url, timeout=10) as sessions:
        started = await sessions.post("/api/livekit/connection-details", headers=mine)
        reloaded = await sessions.post("/api/livekit/connection-details", headers=mine)
        room = started.json()["roomName"]
        rejoined = await sessions.post("/api/livekit/token", json={"room_name": room}, headers=mine)
        refused = await sessions.post("/api/livekit/token", json={"participant_identity": "user_other"}, headers=mine)
        await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(someone_else["id"])))
    assert [r.status_code for r in (started, reloaded, rejoined, refused)] == [200, 200, 201, 403]

    own_stack.sessions.stop()
    own_stack.identity.stop()

    def access_lines(logs: str) -> list[dict[str, object]]:
        parsed = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
        return [line for line in parsed if line.get("logger") == "access" and line.get("clerk_id") == user["id"]]

    starts = access_lines(own_stack.sessions.logs())
    assert [(line["route"], line["status"], line.get("outcome")) for line in starts] == [
        ("/api/livekit/connection-details", 200, "started"),
        ("/api/livekit/connection-details", 200, "reused"),
        ("/api/livekit/token", 201, "rejoined"),
        ("/api/livekit/token", 403, None),
    ]
    assert len({line["interview_id"] for line in starts[:3]}) == 1
    assert starts[3]["problem"] == "urn:problem:forbidden-participant"
    [ensured] = access_lines(own_stack.identity.logs())
    assert (ensured["route"], ensured["created"], ensured["created_from"]) == ("/internal/users/ensure", True, "clerk")
    everything = own_stack.sessions.logs() + own_stack.identity.logs()
    assert "findme@example.com" not in everything
    assert "Find Me" not in everything
