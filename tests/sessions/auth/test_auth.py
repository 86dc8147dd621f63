"""Every /api route needs a valid Clerk session token; a bad one is a 401 problem that changes nothing."""

import time
from collections.abc import Callable

import httpx
import pytest

from deploy.dev.standins.clerk.session_tokens import DEV_ISSUER, mint_session_token
from tests.support.clerk import clerk_user
from tests.support.credentials import FRONTEND_ORIGIN, ClerkKeyPair, bearer
from tests.support.rows import interview_rows

ROUTES = [
    ("POST", "/api/livekit/connection-details"),
    ("POST", "/api/livekit/token"),
    ("GET", "/api/interviews"),
    ("GET", "/api/interviews/7f9c6a2e-0000-4000-8000-000000000000"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_api_route_needs_a_session(sessions: httpx.AsyncClient, method: str, path: str):
    response = await sessions.request(method, path)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("case", "options", "detail"),
    [
        # issued_at is an offset from the moment the test runs (never from collection time)
        ("expired", {"issued_at": -120}, "expired"),
        ("not yet valid", {"issued_at": 120}, "not valid yet"),
        ("another origin", {"authorized_party": "https://evil.example"}, "azp"),
        ("no origin at all", {"authorized_party": None}, "azp"),
    ],
)
async def test_bad_session_tokens_are_401_and_start_nothing(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    sessions_db: str,
    session_token: Callable[..., str],
    case: str,
    options: dict[str, object],
    detail: str,
):
    user = await clerk_user(clerk, email=f"{case.replace(' ', '.')}@example.com")
    if "issued_at" in options:
        options = {**options, "issued_at": time.time() + float(options["issued_at"])}  # type: ignore[arg-type]

    response = await sessions.post(
        "/api/livekit/connection-details", headers=bearer(session_token(user["id"], **options))
    )

    assert response.status_code == 401, case
    assert detail in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


async def test_token_signed_by_another_key_is_401(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str
):
    user = await clerk_user(clerk, email="forger@example.com")
    forged = mint_session_token(ClerkKeyPair().private_pem, subject=user["id"])

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(forged))

    assert response.status_code == 401
    assert await interview_rows(sessions_db) == []


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
async def test_garbage_tokens_are_401(sessions: httpx.AsyncClient, token: str):
    response = await sessions.get("/api/interviews", headers=bearer(token))

    assert response.status_code == 401


async def test_pending_session_is_401(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, clerk_keys: ClerkKeyPair, sessions_db: str
):
    import jwt  # noqa: PLC0415

    user = await clerk_user(clerk, email="pending.session@example.com")
    now = int(time.time())
    token = jwt.encode(
        {"sub": user["id"], "sid": "sess_2pending", "iat": now, "nbf": now, "exp": now + 60}
        | {"azp": "http://localhost:3000", "sts": "pending", "iss": DEV_ISSUER},
        clerk_keys.private_pem,
        algorithm="RS256",
    )

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(token))

    assert response.status_code == 401
    assert "not fully signed in" in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


async def test_session_cookie_is_accepted_from_the_app_s_origin(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="cookie@example.com")
    cookie = {"Cookie": f"__session={session_token(user['id'])}"}

    started = await sessions.post(
        "/api/livekit/connection-details",
        headers={**cookie, "Origin": FRONTEND_ORIGIN, "Content-Type": "application/json"},
        content=b"{}",
    )
    same_origin_read = await sessions.get("/api/interviews", headers=cookie)  # browsers send no Origin here

    assert started.status_code == 200
    assert same_origin_read.status_code == 200
    assert len(same_origin_read.json()["items"]) == 1


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        pytest.param("POST", {"Origin": FRONTEND_ORIGIN, "Content-Type": "text/plain"}, id="write-as-text-plain"),
        pytest.param("POST", {"Origin": FRONTEND_ORIGIN}, id="write-without-content-type"),
        pytest.param("POST", {"Content-Type": "application/json"}, id="write-without-origin"),
        pytest.param(
            "POST", {"Origin": "https://evil.example", "Content-Type": "application/json"}, id="foreign-write"
        ),
        pytest.param("GET", {"Origin": "https://evil.example"}, id="foreign-read"),
    ],
)
async def test_cookie_requests_that_another_site_could_forge_are_403_and_start_nothing(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    sessions_db: str,
    session_token: Callable[..., str],
    method: str,
    headers: dict[str, str],
):
    user = await clerk_user(clerk, email="csrf@example.com")
    path = "/api/livekit/connection-details" if method == "POST" else "/api/interviews"

    response = await sessions.request(
        method,
        path,
        headers={"Cookie": f"__session={session_token(user['id'])}", **headers},
        content=b"{}" if method == "POST" else None,
    )

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await interview_rows(sessions_db) == []


async def test_the_authorization_header_wins_over_the_cookie(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="header.wins@example.com")

    response = await sessions.post(
        "/api/livekit/connection-details",
        headers={"Authorization": f"Bearer {session_token(user['id'])}", "Cookie": "__session=garbage"},
    )

    assert response.status_code == 200
