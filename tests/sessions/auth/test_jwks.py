"""Session tokens verified against Clerk's JWKS: fetched once and kept, refetched for a new key id (Clerk's
key rotation), never per request."""

import asyncio

import httpx

from deploy.dev.standins.clerk.session_tokens import mint_session_token
from services.sessions.auth.keys import JWKS_REFETCH_INTERVAL_SECONDS
from tests.support.clerk import clerk_user
from tests.support.credentials import ClerkKeyPair, bearer, jwk


async def jwks_fetches(clerk: httpx.AsyncClient) -> int:
    return (await clerk.get("/_standin/stats")).json()["requests"].get("jwks", 0)


async def test_jwks_is_cached_refetched_for_a_rotated_key_and_not_hammered_by_unknown_ones(
    sessions_with_jwks: httpx.AsyncClient, clerk: httpx.AsyncClient, clerk_keys: ClerkKeyPair
):
    issuer = str(clerk.base_url).rstrip("/")  # Clerk serves the JWKS from the instance's Frontend API
    user = await clerk_user(clerk, email="jwks@example.com")
    await clerk.put("/_standin/jwks", json={"keys": [jwk(clerk_keys)]})

    async def start(keys: ClerkKeyPair) -> int:
        token = mint_session_token(keys.private_pem, subject=user["id"], key_id=keys.key_id, issuer=issuer)
        response = await sessions_with_jwks.get("/api/interviews", headers=bearer(token))
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
