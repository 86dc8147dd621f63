"""CORS as a browser meets it: the app's own origin is granted `/api/*` (with credentials, the headers
livekit-client and Clerk apps send, a cached preflight); any other origin, and every other path, gets nothing."""

from collections.abc import Callable

import httpx
import pytest

from libs.common.settings import SettingsError
from services.sessions.settings import load_sessions_settings
from tests.support.clerk import clerk_user
from tests.support.credentials import FRONTEND_ORIGIN, bearer
from tests.support.rows import interview_rows

FOREIGN_ORIGIN = "https://evil.example"


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type",
    }


@pytest.mark.parametrize("path", ["/api/livekit/token", "/api/livekit/connection-details", "/api/interviews"])
async def test_the_app_s_origin_may_call_the_api_from_a_browser(sessions: httpx.AsyncClient, path: str):
    response = await sessions.options(path, headers=preflight(FRONTEND_ORIGIN))

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    allowed = {name.strip().lower() for name in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert int(response.headers["access-control-max-age"]) >= 600
    assert "origin" in response.headers["vary"].lower()


async def test_the_app_s_origin_reads_the_answer_and_a_foreign_one_does_not(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="browser@example.com")
    headers = bearer(session_token(user["id"]))

    mine = await sessions.post("/api/livekit/token", json={}, headers=headers | {"Origin": FRONTEND_ORIGIN})
    foreign = await sessions.get("/api/interviews", headers=headers | {"Origin": FOREIGN_ORIGIN})

    assert mine.status_code == 201
    assert mine.headers["access-control-allow-origin"] == FRONTEND_ORIGIN
    assert "retry-after" in mine.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in foreign.headers  # the browser withholds the answer
    assert len(await interview_rows(sessions_db)) == 1


async def test_a_foreign_origin_s_preflight_is_refused_so_its_write_is_never_sent(
    sessions: httpx.AsyncClient, sessions_db: str
):
    response = await sessions.options("/api/livekit/token", headers=preflight(FOREIGN_ORIGIN))

    assert response.status_code >= 400
    assert "access-control-allow-origin" not in response.headers
    assert await interview_rows(sessions_db) == []


@pytest.mark.parametrize("path", ["/webhooks/livekit", "/metrics", "/healthz", "/schema"])
async def test_nothing_outside_the_api_grants_cors(sessions: httpx.AsyncClient, path: str):
    asked = await sessions.options(path, headers=preflight(FRONTEND_ORIGIN))
    read = await sessions.get(path, headers={"Origin": FRONTEND_ORIGIN})

    for response in (asked, read):
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("origins", ["*", "https://*.example.com", "https://app.example.com/", "null"])
def test_a_wildcard_or_anything_but_an_exact_origin_stops_the_start(origins: str):
    environ = {
        "DATABASE_URL": "postgresql://localhost/sessions",
        "INTERNAL_API_TOKEN": "x" * 32,
        "IDENTITY_URL": "http://127.0.0.1:8001",
        "CLERK_JWKS_URL": "https://clerk.example.com/.well-known/jwks.json",
        "CORS_ALLOWED_ORIGINS": origins,
    }
    with pytest.raises(SettingsError, match="CORS_ALLOWED_ORIGINS"):
        load_sessions_settings(environ)
