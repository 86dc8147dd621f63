"""Both services as real processes on loopback, each with its own database, the Clerk stand-in as Clerk."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.credentials import INTERNAL_TOKEN, LIVEKIT_KEY, LIVEKIT_SECRET, ClerkKeyPair, identity_env
from tests.support.postgres import PostgresServer
from tests.support.processes import ServiceProcess


class Stack:
    def __init__(self, identity: ServiceProcess, sessions: ServiceProcess, identity_db: str, sessions_db: str) -> None:
        self.identity = identity
        self.sessions = sessions
        self.identity_db = identity_db
        self.sessions_db = sessions_db


def sessions_env(database_url: str, identity_url: str, clerk_keys: ClerkKeyPair) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "INTERNAL_API_TOKEN": INTERNAL_TOKEN,
        "IDENTITY_URL": identity_url,
        "CLERK_JWT_KEY": clerk_keys.public_pem,
        "CLERK_AUTHORIZED_PARTIES": "http://localhost:3000",
        "LIVEKIT_API_KEY": LIVEKIT_KEY,
        "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
        "LIVEKIT_DEFAULT_AGENT": "interviewer",
    }


@contextmanager
def running_stack(
    postgres: PostgresServer, clerk_url: str, svix_secret: str, clerk_keys: ClerkKeyPair, log_dir: Path, name: str
) -> Iterator[Stack]:
    """Fresh `<name>_identity` and `<name>_sessions` databases, migrated, and both services serving them."""
    urls = {}
    for service in ("identity", "sessions"):
        database, template = f"{name}_{service}", postgres.migrated_template(service)
        postgres.execute(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database} TEMPLATE {template}")
        urls[service] = postgres.url_for(database)
    identity = ServiceProcess(
        "services.identity", identity_env(urls["identity"], clerk_url, svix_secret), log_dir / "identity.log"
    ).start(ready_path="/readyz")
    sessions = ServiceProcess(
        "services.sessions", sessions_env(urls["sessions"], identity.url, clerk_keys), log_dir / "sessions.log"
    )
    try:
        sessions.start(ready_path="/readyz")
        yield Stack(identity, sessions, urls["identity"], urls["sessions"])
    finally:
        sessions.stop()
        identity.stop()
