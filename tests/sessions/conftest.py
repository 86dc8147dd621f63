"""Fixtures for the sessions service: a real identity process to call, keys to sign Clerk session tokens,
and the sessions app over HTTP with its own database."""

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from libs.standins.clerk.session_tokens import mint_session_token
from services.sessions.app import create_app
from services.sessions.settings import SessionsSettings
from tests.conftest import CLERK_SECRET_KEY, INTERNAL_TOKEN
from tests.support.asgi import serve_in_process
from tests.support.postgres import PostgresServer
from tests.support.processes import ServiceProcess

LIVEKIT_KEY = "APItestkey"
LIVEKIT_SECRET = "livekit-test-secret-that-is-long-enough-0123456789"
FRONTEND_ORIGIN = "http://localhost:3000"


class ClerkKeyPair:
    """The RSA key pair of a Clerk instance: the private half signs session tokens in tests."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


@pytest.fixture(scope="session")
def clerk_keys() -> ClerkKeyPair:
    return ClerkKeyPair()


@pytest.fixture
def session_token(clerk_keys: ClerkKeyPair) -> Callable[..., str]:
    """`session_token(user_id, **claims_options)`: a Clerk session token signed by the instance key."""

    def mint(user_id: str, **options: object) -> str:
        return mint_session_token(clerk_keys.private_pem, subject=user_id, **options)  # type: ignore[arg-type]

    return mint


def identity_env(database_url: str, clerk_url: str, svix_secret: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "INTERNAL_API_TOKENS": INTERNAL_TOKEN,
        "CLERK_WEBHOOK_SIGNING_SECRET": svix_secret,
        "CLERK_SECRET_KEY": CLERK_SECRET_KEY,
        "CLERK_API_URL": clerk_url,
        "CLERK_API_TIMEOUT_SECONDS": "0.5",
    }


@pytest.fixture(scope="session")
def identity_service(
    postgres: PostgresServer,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The identity service as a real process with its own database, shared by the sessions tests."""
    template = postgres.migrated_template("identity")
    database = f"{template.removesuffix('_template')}_for_sessions"
    postgres.execute(f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database} TEMPLATE {template}")
    log = Path(tmp_path_factory.mktemp("identity")) / "identity.log"
    env = identity_env(postgres.url_for(database), clerk_standin.url, svix_secret)
    process = ServiceProcess("services.identity", env, log).start(ready_path="/readyz")
    yield process
    process.stop()


@pytest.fixture(scope="session")
def sessions_template(postgres: PostgresServer) -> str:
    return postgres.migrated_template("sessions")


@pytest.fixture
async def sessions_db(postgres: PostgresServer, sessions_template: str) -> AsyncIterator[str]:
    name = await postgres.create_database(sessions_template)
    yield postgres.url_for(name)
    await postgres.drop_database(name)


def sessions_settings_for(
    database_url: str, identity_url: str, clerk_keys: ClerkKeyPair, **overrides: object
) -> SessionsSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "internal_api_token": INTERNAL_TOKEN,
        "identity_url": identity_url,
        "clerk_jwt_key": clerk_keys.public_pem,
        "clerk_authorized_parties": (FRONTEND_ORIGIN,),
        "livekit_url": "ws://localhost:7880",
        "livekit_api_key": LIVEKIT_KEY,
        "livekit_api_secret": LIVEKIT_SECRET,
        "livekit_default_agent": "interviewer",
        "identity_timeout_seconds": 2.0,
    }
    return SessionsSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def sessions_settings(sessions_db: str, identity_service: ServiceProcess, clerk_keys: ClerkKeyPair) -> SessionsSettings:
    return sessions_settings_for(sessions_db, identity_service.url, clerk_keys)


@pytest.fixture
async def sessions(sessions_settings: SessionsSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(sessions_settings), "http://sessions") as client:
        yield client
