"""Fixtures for the sessions service: a real identity process to call,
and the sessions app over HTTP with its own database."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.session_tokens import DEV_ISSUER
from services.sessions.app import create_app
from services.sessions.settings import SessionsSettings
from tests.support.asgi import serve_in_process
from tests.support.credentials import (
    FRONTEND_ORIGIN,
    INTERNAL_TOKEN,
    LIVEKIT_KEY,
    LIVEKIT_SECRET,
    ClerkKeyPair,
    identity_env,
)
from tests.support.postgres import PostgresForTests
from tests.support.storage import ObjectStore, object_store_on_loopback


@pytest.fixture(scope="session")
def identity_service(
    postgres: PostgresForTests,
    clerk_standin: ServiceProcess,
    svix_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The identity service as a real process with its own database, shared by the sessions tests."""
    postgres.execute("DROP DATABASE IF EXISTS identity_for_sessions WITH (FORCE)")
    template = postgres.migrated_template("identity")
    database_url = postgres.migrated_database("identity_for_sessions", "identity", template=template)
    log = Path(tmp_path_factory.mktemp("identity")) / "identity.log"
    env = identity_env(database_url, clerk_standin.url, svix_secret)
    process = ServiceProcess("services.identity", env, log, ready_path="/readyz").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def sessions_template(postgres: PostgresForTests) -> str:
    return postgres.migrated_template("sessions")


@pytest.fixture
async def sessions_db(postgres: PostgresForTests, sessions_template: str) -> AsyncIterator[str]:
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
        "clerk_issuer": DEV_ISSUER,
        "livekit_url": "ws://localhost:7880",
        "livekit_api_key": LIVEKIT_KEY,
        "livekit_api_secret": LIVEKIT_SECRET,
        "livekit_default_agent": "interviewer",
        "livekit_agents": ("coach",),
        "identity_timeout_seconds": 2.0,
        "interview_reconcile_seconds": 0,  # no LiveKit server here; the e2e tests run it with the stand-in
        "identity_recheck_seconds": 0,  # every start asks identity; test_identity_recheck.py turns it on
    }
    return SessionsSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def sessions_settings(sessions_db: str, identity_service: ServiceProcess, clerk_keys: ClerkKeyPair) -> SessionsSettings:
    return sessions_settings_for(sessions_db, identity_service.url, clerk_keys)


@pytest.fixture
async def sessions(sessions_settings: SessionsSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_in_process(create_app(sessions_settings), "http://sessions") as client:
        yield client


@pytest.fixture
async def sessions_with_jwks(
    sessions_db: str, identity_service: ServiceProcess, clerk_standin: ServiceProcess, clerk_keys: ClerkKeyPair
) -> AsyncIterator[httpx.AsyncClient]:
    settings = sessions_settings_for(
        sessions_db,
        identity_service.url,
        clerk_keys,
        clerk_jwt_key="",
        clerk_issuer="",  # the JWKS URL's origin
        clerk_jwks_url=f"{clerk_standin.url}/.well-known/jwks.json",
    )
    async with serve_in_process(create_app(settings), "http://sessions") as client:
        yield client


@pytest.fixture
async def roomy_sessions(
    sessions_db: str, identity_service: ServiceProcess, clerk_keys: ClerkKeyPair
) -> AsyncIterator[httpx.AsyncClient]:
    """The sessions app with room for many open interviews per user (tests that start dozens)."""
    settings = sessions_settings_for(sessions_db, identity_service.url, clerk_keys, max_open_interviews_per_user=100)
    async with serve_in_process(create_app(settings), "http://sessions") as client:
        yield client


@pytest.fixture(scope="session")
def object_store() -> Iterator[ObjectStore]:
    with object_store_on_loopback() as store:
        yield store


@pytest.fixture
def recordings_bucket(object_store: ObjectStore) -> str:
    return object_store.new_bucket()


@pytest.fixture
async def recording_sessions(
    sessions_db: str,
    identity_service: ServiceProcess,
    clerk_keys: ClerkKeyPair,
    object_store: ObjectStore,
    recordings_bucket: str,
) -> AsyncIterator[httpx.AsyncClient]:
    """The sessions app keeping recordings in a bucket of its own (its egress pointing at no LiveKit: the tests that
    start one drive a stack)."""
    settings = sessions_settings_for(
        sessions_db, identity_service.url, clerk_keys, **object_store.settings(recordings_bucket)
    )
    async with serve_in_process(create_app(settings), "http://sessions") as client:
        yield client
