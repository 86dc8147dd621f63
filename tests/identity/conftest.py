"""Fixtures for the identity service: a migrated database per test and the app served over HTTP."""

from collections.abc import AsyncIterator

import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from services.identity.app import create_app
from services.identity.settings import IdentitySettings
from tests.support.asgi import serve_in_process
from tests.support.credentials import CLERK_SECRET_KEY, INTERNAL_TOKEN
from tests.support.postgres import PostgresForTests


@pytest.fixture(scope="session")
def identity_template(postgres: PostgresForTests) -> str:
    return postgres.migrated_template("identity")


@pytest.fixture
async def identity_db(postgres: PostgresForTests, identity_template: str) -> AsyncIterator[str]:
    """The URL of a fresh, migrated identity database, dropped after the test."""
    name = await postgres.create_database(identity_template)
    yield postgres.url_for(name)
    await postgres.drop_database(name)


@pytest.fixture
def identity_settings(identity_db: str, clerk_standin: ServiceProcess, svix_secret: str) -> IdentitySettings:
    return IdentitySettings(
        database_url=identity_db,
        internal_api_tokens=(INTERNAL_TOKEN, "previous-internal-token-0123456789"),
        clerk_webhook_signing_secret=svix_secret,
        clerk_secret_key=CLERK_SECRET_KEY,
        clerk_api_url=clerk_standin.url,
        clerk_api_timeout_seconds=0.5,
    )


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The identity app, its lifespan running, reached through httpx on the test's own event loop."""
    async with serve_in_process(create_app(identity_settings), "http://identity") as client:
        client.headers["Authorization"] = f"Bearer {INTERNAL_TOKEN}"
        yield client
