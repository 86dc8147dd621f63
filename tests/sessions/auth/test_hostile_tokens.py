"""Hostile session tokens: every header and claim of every JSON type is a 401 (or a refusal further on),
never a 5xx, never an interview, and the metrics count each rejection under its real status."""

import time
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.dev.standins.clerk.session_tokens import DEV_ISSUER
from tests.support.credentials import FRONTEND_ORIGIN, ClerkKeyPair, bearer
from tests.support.hostile import HOSTILE, json_values, signed_jwt, unsigned_jwt
from tests.support.metrics import sample
from tests.support.rows import interview_rows

ROUTES = [
    ("POST", "/api/livekit/connection-details"),
    ("POST", "/api/livekit/token"),
    ("GET", "/api/interviews"),
    ("GET", "/api/interviews/7f9c6a2e-0000-4000-8000-000000000000"),
]
HOSTILE_HEADERS = [
    pytest.param({"alg": "RS256", "kid": 123}, id="kid-number"),
    pytest.param({"alg": "RS256", "kid": ["a"]}, id="kid-list"),
    pytest.param({"alg": "RS256", "kid": {"a": 1}}, id="kid-object"),
    pytest.param({"alg": "RS256", "kid": None}, id="kid-null"),
    pytest.param({"alg": "RS256", "crit": ["b64"]}, id="crit-unknown-extension"),
    pytest.param({"alg": 5}, id="alg-number"),
    pytest.param(["RS256"], id="header-a-list"),
]
SOME_USER = "user_2hostile000000000000000000"


def good_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": SOME_USER, "sid": "sess_2abc", "iat": now, "nbf": now - 5, "exp": now + 60}
    return {**claims, "azp": FRONTEND_ORIGIN, "sts": "active", "iss": DEV_ISSUER, **overrides}


@pytest.mark.parametrize("header", HOSTILE_HEADERS)
@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_unsigned_tokens_with_hostile_headers_are_401_by_header_and_by_cookie(
    sessions: httpx.AsyncClient, sessions_db: str, header: Any, method: str, path: str
):
    token = unsigned_jwt(header)
    by_cookie = {"Cookie": f"__session={token}", "Origin": FRONTEND_ORIGIN, "Content-Type": "application/json"}

    for headers in (bearer(token), by_cookie):
        response = await sessions.request(method, path, headers=headers, content=b"{}" if method == "POST" else None)

        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await interview_rows(sessions_db) == []


@pytest.mark.parametrize("header", HOSTILE_HEADERS)
async def test_hostile_headers_are_401_when_keys_come_from_a_jwks(sessions_with_jwks: httpx.AsyncClient, header: Any):
    response = await sessions_with_jwks.get("/api/interviews", headers=bearer(unsigned_jwt(header)))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"azp": [FRONTEND_ORIGIN]}, id="azp-list"),
        pytest.param({"azp": {"origin": FRONTEND_ORIGIN}}, id="azp-object"),
        pytest.param({"sub": "user_abc\u0000def"}, id="sub-with-nul"),
        pytest.param({"sub": "user_abc\n"}, id="sub-ending-in-newline"),
        pytest.param({"sub": 42}, id="sub-number"),
        pytest.param({"sid": None}, id="sid-null"),
        pytest.param({"sid": 7}, id="sid-number"),
        pytest.param({"exp": "tomorrow"}, id="exp-string"),
        pytest.param({"iat": [1]}, id="iat-list"),
    ],
)
async def test_correctly_signed_tokens_with_absurd_claims_are_401(
    sessions: httpx.AsyncClient, clerk_keys: ClerkKeyPair, sessions_db: str, overrides: dict[str, Any]
):
    token = signed_jwt(clerk_keys.private_pem, {"alg": "RS256", "kid": clerk_keys.key_id}, good_claims(**overrides))

    for method, path in ROUTES:
        response = await sessions.request(method, path, headers=bearer(token))

        assert response.status_code == 401, (method, path, response.text)
    assert await interview_rows(sessions_db) == []


async def test_a_token_without_a_session_id_is_not_a_session(
    sessions: httpx.AsyncClient, clerk_keys: ClerkKeyPair, sessions_db: str
):
    claims = good_claims()
    del claims["sid"]  # a JWT-template token: same keys, no session
    token = signed_jwt(clerk_keys.private_pem, {"alg": "RS256", "kid": clerk_keys.key_id}, claims)

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(token))

    assert response.status_code == 401
    assert "sid" in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


async def test_rejections_by_authentication_are_counted_under_their_real_status(
    sessions: httpx.AsyncClient, session_token: Any
):
    def count(metrics: str, status: int) -> float:
        labels = {"app_name": "sessions", "method": "GET", "path": "/api/interviews", "status_code": str(status)}
        return sample(metrics, "sessions_requests_total", **labels)

    before = (await sessions.get("/metrics")).text
    for kid in (123, ["a"], None):
        await sessions.get("/api/interviews", headers=bearer(unsigned_jwt({"alg": "RS256", "kid": kid})))
    await sessions.get("/api/interviews")
    good = await sessions.get("/api/interviews", headers=bearer(session_token(SOME_USER)))
    after = (await sessions.get("/metrics")).text

    assert good.status_code == 200
    assert (count(after, 401) - count(before, 401), count(after, 200) - count(before, 200)) == (4, 1)
    assert count(after, 500) == 0


headers_of_any_shape = st.fixed_dictionaries(
    {"alg": st.just("RS256") | json_values}, optional={"kid": json_values, "crit": json_values, "typ": json_values}
)
claims_of_any_shape = st.dictionaries(
    st.sampled_from(["sub", "sid", "iat", "nbf", "exp", "azp", "sts", "iss", "v"]) | st.text(max_size=8),
    json_values,
    min_size=1,
    max_size=4,
)


@HOSTILE
@given(header=headers_of_any_shape, overrides=claims_of_any_shape, by_cookie=st.booleans())
async def test_signed_tokens_with_any_header_and_claims_never_fail_the_server_or_start_anything(
    sessions: httpx.AsyncClient,
    clerk_keys: ClerkKeyPair,
    sessions_db: str,
    header: dict[str, Any],
    overrides: dict[str, Any],
    by_cookie: bool,
):
    token = signed_jwt(clerk_keys.private_pem, header, good_claims(**overrides))
    cookie = {"Cookie": f"__session={token}", "Origin": FRONTEND_ORIGIN, "Content-Type": "application/json"}

    response = await sessions.post(
        "/api/livekit/connection-details", headers=cookie if by_cookie else bearer(token), content=b"{}"
    )

    # 401: the token; 403: a token that holds but names a user Clerk does not know (nobody starts anything)
    assert response.status_code in (401, 403), response.text
    assert await interview_rows(sessions_db) == []
