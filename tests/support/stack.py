"""Both services as real processes on loopback (`deploy.dev.stack`), each with a fresh database, the shared
Clerk stand-in as Clerk, a LiveKit stand-in of their own, and the tests' credentials."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from deploy.dev.stack import PostgresServer, Stack
from tests.support.credentials import TEST_ENVIRONMENT, ClerkKeyPair, secrets_for_tests

# Load tests start dozens of interviews per user within seconds: far past the open-interviews cap (3).
UNCAPPED = {"MAX_OPEN_INTERVIEWS_PER_USER": "1000"}


@contextmanager
def running_stack(
    postgres: PostgresServer,
    clerk_url: str,
    svix_secret: str,
    clerk_keys: ClerkKeyPair,
    log_dir: Path,
    name: str,
    *,
    sessions_replicas: int = 1,
    sessions_environment: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """Fresh `<name>_identity` and `<name>_sessions` databases, migrated, and both services serving them
    (sessions in `sessions_replicas` processes), with the LiveKit stand-in as LiveKit."""
    databases = {}
    for service in ("identity", "sessions"):
        postgres.execute(f"DROP DATABASE IF EXISTS {name}_{service} WITH (FORCE)")
        databases[service] = postgres.migrated_database(f"{name}_{service}", service)
    stack = Stack(
        secrets_for_tests(svix_secret, clerk_keys),
        databases,
        clerk_url=clerk_url,
        sessions_replicas=sessions_replicas,
        environment={**TEST_ENVIRONMENT, "sessions": {**TEST_ENVIRONMENT["sessions"], **(sessions_environment or {})}},
        log_dir=log_dir,
    )
    with stack:
        yield stack
