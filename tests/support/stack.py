"""Both services as real processes on loopback (`deploy.dev.stack`), each with a fresh database, the shared
Clerk stand-in as Clerk, and the tests' credentials."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.dev.stack import PostgresServer, Stack
from tests.support.credentials import TEST_ENVIRONMENT, ClerkKeyPair, secrets_for_tests


@contextmanager
def running_stack(
    postgres: PostgresServer, clerk_url: str, svix_secret: str, clerk_keys: ClerkKeyPair, log_dir: Path, name: str
) -> Iterator[Stack]:
    """Fresh `<name>_identity` and `<name>_sessions` databases, migrated, and both services serving them."""
    databases = {}
    for service in ("identity", "sessions"):
        postgres.execute(f"DROP DATABASE IF EXISTS {name}_{service} WITH (FORCE)")
        databases[service] = postgres.migrated_database(f"{name}_{service}", service)
    stack = Stack(
        secrets_for_tests(svix_secret, clerk_keys),
        databases,
        clerk_url=clerk_url,
        environment=TEST_ENVIRONMENT,
        log_dir=log_dir,
    )
    with stack:
        yield stack
