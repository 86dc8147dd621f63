"""Identity down or failing: the start gets 503 with Retry-After, never a 500, and no interview is recorded."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import ServiceProcess, free_port
from services.sessions.app import create_app
from tests.sessions.conftest import sessions_settings_for
from tests.support.asgi import serve_in_process
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer, identity_env
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


async def test_identity_stopped_gives_503_with_retry_after_and_no_interview(
    own_identity: ServiceProcess,
    sessions_db: str,
    clerk_keys: ClerkKeyPair,
    clerk: httpx.AsyncClient,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="outage@example.com")
    headers = bearer(session_token(user["id"]))
    settings = sessions_settings_for(sessions_db, own_identity.url, clerk_keys)
    async with serve_in_process(create_app(settings), "http://sessions") as sessions:
        assert (await sessions.post("/api/livekit/connection-details", headers=headers)).status_code == 200
        own_identity.stop()

        details = await sessions.post("/api/livekit/connection-details", headers=headers)
        token = await sessions.post("/api/livekit/token", headers=headers)

    for response in (details, token):
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["content-type"].startswith("application/problem+json")
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
