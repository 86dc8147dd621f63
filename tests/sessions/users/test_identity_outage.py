"""Identity down or failing: the start gets 503 with Retry-After, never a 500, and no interview is recorded."""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import ServiceProcess, free_port
from services.sessions.app import create_app
from services.sessions.users.identity_client import IdentityClient
from tests.sessions.conftest import sessions_settings_for
from tests.support.asgi import serve_in_process
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer, identity_env
from tests.support.metrics import sample
from tests.support.postgres import PostgresForTests
from tests.support.rows import interview_rows


@pytest.fixture
async def own_identity(
    postgres: PostgresForTests, clerk_standin: ServiceProcess, svix_secret: str, tmp_path: Path
) -> AsyncIterator[ServiceProcess]:
    """An identity process of this test's own, which the test will stop."""
    database = postgres.url_for(await postgres.create_database(postgres.migrated_template("identity")))
    env = identity_env(database, clerk_standin.url, svix_secret)
    process = ServiceProcess("services.identity", env, tmp_path / "identity.log", ready_path="/readyz").start()
    yield process
    process.stop()


async def test_identity_stopped_a_recently_confirmed_user_starts_a_new_one_gets_503(
    own_identity: ServiceProcess,
    sessions_db: str,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
):
    known = await clerk_user(clerk, email="known@example.com", first_name="Known")
    new = await clerk_user(clerk, email="new@example.com")
    settings = sessions_settings_for(sessions_db, own_identity.url, clerk_keys)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        confirmed = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(known["id"])))
        assert confirmed.status_code == 200
        stale_before = sample((await sessions.get("/metrics")).text, "sessions_stale_starts_total")
        own_identity.stop()

        stale = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(known["id"])))
        unknown = [
            await sessions.post(path, headers=bearer(session_token(new["id"])))
            for path in ("/api/livekit/connection-details", "/api/livekit/token")
        ]
        stale_after = sample((await sessions.get("/metrics")).text, "sessions_stale_starts_total")

    assert stale.status_code == 200
    assert stale.json()["participantName"] == "Known"  # the name identity gave before the outage
    assert stale_after == stale_before + 1
    for response in unknown:
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["content-type"].startswith("application/problem+json")
    owners = [row["clerk_id"] for row in await interview_rows(sessions_db)]
    assert owners == [known["id"]]  # the stale start got the unused interview back; none for the unconfirmed user
    assert stale.json()["roomName"] == confirmed.json()["roomName"]


async def test_identity_stopped_with_stale_if_error_off_gives_everyone_503(
    own_identity: ServiceProcess,
    sessions_db: str,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="outage@example.com")
    headers = bearer(session_token(user["id"]))
    settings = sessions_settings_for(sessions_db, own_identity.url, clerk_keys, identity_stale_if_error_seconds=0)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        assert (await sessions.post("/api/livekit/connection-details", headers=headers)).status_code == 200
        own_identity.stop()

        details = await sessions.post("/api/livekit/connection-details", headers=headers)

    assert details.status_code == 503
    assert int(details.headers["retry-after"]) > 0
    assert len(await interview_rows(sessions_db)) == 1  # only the start made before the outage


async def test_identity_not_listening_at_all_gives_503(
    sessions_db: str, clerk_keys: ClerkKeyPair, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="nobody.home@example.com")
    settings = sessions_settings_for(sessions_db, f"http://127.0.0.1:{free_port()}", clerk_keys)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        response = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(user["id"])))

    assert response.status_code == 503
    assert await interview_rows(sessions_db) == []


async def test_starts_queued_past_their_wait_for_a_connection_to_identity_get_503_and_leave_nothing(
    sessions_db: str,
    identity_service: ServiceProcess,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
):
    # One connection to identity, held for a second by a new user identity fetches from a slow Clerk; the next
    # start may wait a fifth of that for it.
    monkeypatch.setattr(IdentityClient, "CONNECTIONS", 1)
    monkeypatch.setattr(IdentityClient, "QUEUE_SECONDS", 0.2)
    users = [(await clerk_user(clerk, email=f"queued{n}@example.com"))["id"] for n in (1, 2)]
    settings = sessions_settings_for(sessions_db, identity_service.url, clerk_keys)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        await clerk.put("/_standin/faults", json={"latency_seconds": 1.0})
        try:
            answers = await asyncio.gather(
                *(
                    sessions.post("/api/livekit/connection-details", headers=bearer(session_token(clerk_id)))
                    for clerk_id in users
                )
            )
        finally:
            await clerk.delete("/_standin/faults")
        busy = sample((await sessions.get("/metrics")).text, "sessions_identity_rpc_failures_total", reason="busy")

    by_status = {answer.status_code: clerk_id for answer, clerk_id in zip(answers, users, strict=True)}
    assert sorted(by_status) == [200, 503]  # whichever reached the connection first holds it
    [queued] = [answer for answer in answers if answer.status_code == 503]
    assert queued.headers["content-type"].startswith("application/problem+json")
    assert int(queued.headers["retry-after"]) > 0
    assert busy == 1
    assert [row["clerk_id"] for row in await interview_rows(sessions_db)] == [by_status[200]]
