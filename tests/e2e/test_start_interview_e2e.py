"""End to end: both services as real processes on loopback, the Clerk stand-in as Clerk."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from tests.support.clerk import clerk_user
from tests.support.credentials import CLERK_SECRET_KEY, INTERNAL_TOKEN, LIVEKIT_SECRET, ClerkKeyPair, bearer
from tests.support.livekit import verify_livekit_token
from tests.support.postgres import PostgresForTests
from tests.support.rows import interview_rows
from tests.support.stack import Stack, running_stack


@pytest.fixture
def stack(
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path: Path,
) -> Iterator[Stack]:
    with running_stack(postgres, clerk_standin.url, svix_secret, clerk_keys, tmp_path, "e2e") as stack:
        yield stack


async def test_new_user_starts_an_interview_across_both_processes_with_one_request_id_and_clean_logs(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str], svix_secret: str
):
    user = await clerk_user(clerk, email="e2e.person@example.com", first_name="Grace", last_name="Hopper")
    token = session_token(user["id"])

    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as sessions:
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
    async with httpx.AsyncClient(base_url=stack.identity.url) as identity:
        stored = await identity.get(f"/internal/users/{user['id']}", headers=bearer(INTERNAL_TOKEN))
    assert stored.json()["user"]["created_via"] == "ensure"

    stack.sessions.stop()
    stack.identity.stop()
    lines = {
        name: [json.loads(line) for line in process.logs().splitlines() if line.startswith("{")]
        for name, process in (("sessions", stack.sessions), ("identity", stack.identity))
    }
    for name, route in (("sessions", "/api/livekit/connection-details"), ("identity", "/internal/users/ensure")):
        assert any(line.get("request_id") == "e2e-start-0001" and line.get("route") == route for line in lines[name]), (
            f"{name} logged no {route} line with the caller's request id"
        )
    everything = stack.sessions.logs() + stack.identity.logs()
    for secret in (INTERNAL_TOKEN, CLERK_SECRET_KEY, svix_secret, LIVEKIT_SECRET, token, "e2e.person@example.com"):
        assert secret not in everything


async def test_identity_stopped_means_503_and_no_interview(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="e2e.outage@example.com")
    stack.identity.stop()

    async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as sessions:
        response = await sessions.post("/api/livekit/token", headers=bearer(session_token(user["id"])))

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await interview_rows(stack.database_urls["sessions"]) == []
