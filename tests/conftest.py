"""Fixtures shared by every test: a real PostgreSQL, the Clerk stand-in, and services built for real."""

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import CLERK_STANDIN, READY_PATHS, ServiceProcess, clerk_environment
from deploy.dev.standins.clerk.session_tokens import mint_session_token
from deploy.dev.standins.clerk.signing import new_svix_secret
from tests.support.credentials import ClerkKeyPair, secrets_for_tests
from tests.support.postgres import PostgresForTests, postgres_for_tests

SLOW = ("reliability", "devstack", "deploy", "standins", "browser", "test_static_checks.py")
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tiers by folder: `-m unit` runs the pure logic in seconds, `-m "not slow"` every service test too."""
    for item in items:
        top = item.path.relative_to(TESTS).parts[0]
        if top == "unit":
            item.add_marker(pytest.mark.unit)
        elif top in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresForTests]:
    with postgres_for_tests() as server:
        yield server


@pytest.fixture(scope="session")
def svix_secret() -> str:
    return new_svix_secret()


@pytest.fixture(scope="session")
def clerk_standin(
    tmp_path_factory: pytest.TempPathFactory, svix_secret: str, clerk_keys: ClerkKeyPair
) -> Iterator[ServiceProcess]:
    """The Clerk stand-in as a real process (Backend API, control API, session tokens signed with the instance's
    key), shared by the run."""
    log = Path(tmp_path_factory.mktemp("clerk")) / "clerk.log"
    env = clerk_environment(secrets_for_tests(svix_secret, clerk_keys))
    process = ServiceProcess(CLERK_STANDIN, env, log, ready_path=READY_PATHS["clerk"]).start()
    yield process
    process.stop()


@pytest.fixture
async def clerk(clerk_standin: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the stand-in's control API, reset before each test."""
    async with httpx.AsyncClient(base_url=clerk_standin.url, timeout=10) as client:
        (await client.post("/_standin/reset")).raise_for_status()
        yield client


@pytest.fixture(scope="session")
def clerk_keys() -> ClerkKeyPair:
    return ClerkKeyPair()


@pytest.fixture
def session_token(clerk_keys: ClerkKeyPair) -> Callable[..., str]:
    """`session_token(user_id, **options)`: a Clerk session token signed by the instance's key."""

    def mint(user_id: str, **options: object) -> str:
        return mint_session_token(clerk_keys.private_key, subject=user_id, **options)  # type: ignore[arg-type]

    return mint
