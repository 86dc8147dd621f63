"""Database outages: 503 + Retry-After (so Svix redelivers), nothing half-written, recovery without restart."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from deploy.dev.stack import EmbeddedPostgres, embedded_postgres
from deploy.dev.standins.clerk.payloads import make_user, user_event
from services.identity.app import create_app
from services.identity.settings import IdentitySettings
from tests.support.asgi import serve_in_process
from tests.support.clerk import deliver
from tests.support.credentials import INTERNAL_TOKEN
from tests.support.rows import rows


@pytest.fixture
def outage_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    with embedded_postgres(tmp_path / "pgdata", keep_data=False) as server:
        yield server


@pytest.fixture
async def identity_on_outage_db(
    outage_postgres: EmbeddedPostgres, identity_settings: IdentitySettings
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = outage_postgres.migrated_database("identity", "identity")
    app = create_app(msgspec.structs.replace(identity_settings, database_url=url))
    async with serve_in_process(app, "http://identity") as client:
        client.headers["Authorization"] = f"Bearer {INTERNAL_TOKEN}"
        yield client, url


async def test_database_down_gives_503_with_retry_after_and_recovers_by_itself(
    identity_on_outage_db: tuple[httpx.AsyncClient, str],
    outage_postgres: EmbeddedPostgres,
    clerk: httpx.AsyncClient,
    svix_secret: str,
):
    identity, url = identity_on_outage_db
    before = make_user(email="before@example.com")
    assert (await deliver(identity, svix_secret, user_event("user.created", before))).status_code == 200
    known = (await identity.post("/internal/users/ensure", json={"clerk_id": before["id"]})).status_code
    assert known == 200

    outage_postgres.stop()
    during = make_user(email="during@example.com")
    webhook = await deliver(identity, svix_secret, user_event("user.created", during), svix_id="msg_during")
    ensured = await identity.post("/internal/users/ensure", json={"clerk_id": before["id"]})
    ready = await identity.get("/readyz")

    for response in (webhook, ensured):
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "Traceback" not in response.text
    assert ready.status_code == 503

    outage_postgres.start()
    redelivered = await deliver(identity, svix_secret, user_event("user.created", during), svix_id="msg_during")
    assert redelivered.json() == {"outcome": "applied"}  # the failed attempt left no trace to dedupe against
    assert (await identity.get("/readyz")).status_code == 200
    assert (await identity.post("/internal/users/ensure", json={"clerk_id": during["id"]})).status_code == 200
    stored = await rows(url)
    assert sorted(row["clerk_id"] for row in stored) == sorted([before["id"], during["id"]])
