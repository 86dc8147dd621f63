"""Fixtures for the reliability tests: the whole system as real processes."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.dev.stack import ServiceProcess
from tests.support.credentials import ClerkKeyPair
from tests.support.postgres import PostgresForTests
from tests.support.stack import UNCAPPED, Stack, running_stack


@pytest.fixture
def stack(
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    tmp_path: Path,
) -> Iterator[Stack]:
    # Identity down must mean 503 here, for every user, and every start asks it: stale-if-error and the recheck
    # window have tests of their own (tests/e2e, tests/sessions).
    environment = {**UNCAPPED, "IDENTITY_STALE_IF_ERROR_SECONDS": "0", "IDENTITY_RECHECK_SECONDS": "0"}
    with running_stack(
        postgres, clerk_standin.url, svix_secret, clerk_keys, tmp_path, "reliability", sessions_environment=environment
    ) as stack:
        yield stack
