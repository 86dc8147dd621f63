"""Fixtures shared by every test: a real PostgreSQL, the Clerk stand-in, and services built for real."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from libs.standins.clerk.signing import new_svix_secret
from tests.support.postgres import PostgresServer, embedded_postgres
from tests.support.processes import ServiceProcess

CLERK_SECRET_KEY = "sk_test_standin0123456789abcdef"
INTERNAL_TOKEN = "internal-token-for-tests-0123456789"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with embedded_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def svix_secret() -> str:
    return new_svix_secret()


@pytest.fixture(scope="session")
def clerk_standin(tmp_path_factory: pytest.TempPathFactory, svix_secret: str) -> Iterator[ServiceProcess]:
    """The Clerk stand-in as a real process (Backend API + control API), shared by the run."""
    log = Path(tmp_path_factory.mktemp("clerk")) / "clerk.log"
    process = ServiceProcess(
        "libs.standins.clerk",
        {"CLERK_SECRET_KEY": CLERK_SECRET_KEY, "CLERK_WEBHOOK_SIGNING_SECRET": svix_secret},
        log,
    ).start(ready_path="/_standin/stats")
    yield process
    process.stop()


@pytest.fixture
async def clerk(clerk_standin: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the stand-in's control API, reset before each test."""
    async with httpx.AsyncClient(base_url=clerk_standin.url, timeout=10) as client:
        (await client.post("/_standin/reset")).raise_for_status()
        yield client
