"""Session tokens verified against Clerk's JWKS: fetched once and kept, refetched for a new key id (Clerk's
key rotation), never per request."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from libs.standins.clerk.session_tokens import mint_session_token
from services.sessions.app import create_app
from services.sessions.auth import JWKS_REFETCH_INTERVAL_SECONDS
from tests.sessions.conftest import sessions_settings_for
from tests.sessions.support import clerk_user
from tests.support.asgi import serve_in_process
from tests.support.credentials import ClerkKeyPair, jwk
from tests.support.processes import ServiceProcess


@pytest.fixture
async def sessions_with_jwks(
    sessions_db: str, identity_service: ServiceProcess, clerk_standin: ServiceProcess, clerk_keys: ClerkKeyPair
) -> AsyncIterator[httpx.AsyncClient]:
    settings = sessions_settings_for(
        sessions_db,
        identity_service.url,
        clerk_keys,
        clerk_jwt_key="",
        clerk_jwks_url=f"{clerk_standin.url}/.well-known/jwks.json",
    )
    async with serve_in_process(create_app(settings), "http://sessions") as client:
        yield client


async def jwks_fetches(clerk: httpx.AsyncClient) -> int:
    return (await clerk.get("/_standin/stats")).json()["requests"].get("jwks", 0)


async def test_jwks_is_cached_refetched_for_a_rotated_key_and_not_hammered_by_unknown_ones(
    sessions_with_jwks: httpx.AsyncClient, clerk: httpx.AsyncClient, clerk_keys: ClerkKeyPair
):
    user = await clerk_user(clerk, email="jwks@example.com")
    await clerk.put("/_standin/jwks", json={"keys": [jwk(clerk_keys)]})

    async def start(keys: ClerkKeyPair) -> int:
        token = mint_session_token(keys.private_pem, subject=user["id"], key_id=keys.key_id)
        response = await sessions_with_jwks.get("/api/interviews", headers={"Authorization": f"Bearer {token}"})
        return response.status_code

    assert [await start(clerk_keys) for _ in range(5)] == [200] * 5
    assert await jwks_fetches(clerk) == 1

    await asyncio.sleep(JWKS_REFETCH_INTERVAL_SECONDS)  # Clerk rotates its keys some time later
    rotated = ClerkKeyPair(key_id="ins_rotated")
    await clerk.put("/_standin/jwks", json={"keys": [jwk(clerk_keys), jwk(rotated)]})
    assert [await start(rotated) for _ in range(3)] == [200] * 3
    assert await jwks_fetches(clerk) == 2

    stranger = ClerkKeyPair(key_id="ins_stranger")
    assert [await start(stranger) for _ in range(5)] == [401] * 5
    assert await jwks_fetches(clerk) == 2  # unknown kids refetch at most once per interval
