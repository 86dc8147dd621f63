"""The stacks end-to-end tests run against: one per module, shared by its tests (two sessions replicas on one
database, so every background task runs twice at once), or one for a test alone, which it may stop or kill."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from tests.support.credentials import ClerkKeyPair
from tests.support.livekit import LiveKitStandin
from tests.support.postgres import PostgresForTests
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The module's stack, its databases named after the module, sessions configured with the module's
    `SESSIONS_ENVIRONMENT` (if it has one) over the tests' defaults."""
    name = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with running_stack(
        postgres,
        clerk_standin.url,
        svix_secret,
        clerk_keys,
        tmp_path_factory.mktemp(name),
        name,
        sessions_replicas=2,
        sessions_environment=getattr(request.module, "SESSIONS_ENVIRONMENT", None),
    ) as stack:
        yield stack


@pytest.fixture
async def livekit(stack: Stack) -> AsyncIterator[LiveKitStandin]:
    """The stack's LiveKit stand-in, answering (a test before may have made it unavailable)."""
    assert stack.livekit is not None
    async with httpx.AsyncClient(base_url=stack.livekit.url, timeout=10) as http:
        standin = LiveKitStandin(http)
        await standin.set_unavailable(False)
        yield standin


@pytest.fixture
def own_stack(
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path: Path,
) -> Iterator[Stack]:
    with running_stack(postgres, clerk_standin.url, svix_secret, clerk_keys, tmp_path, "own") as stack:
        yield stack
