"""A stack for one end-to-end test alone, which it may stop or kill."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.dev.stack import ServiceProcess
from tests.support.credentials import ClerkKeyPair
from tests.support.postgres import PostgresForTests
from tests.support.stack import Stack, running_stack


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
