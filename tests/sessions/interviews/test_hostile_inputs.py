"""Hostile values in what a signed-in user sends (participant fields, cursors, deep bodies) and in signed
LiveKit webhooks: each is a 4xx problem naming what is wrong, never a 5xx, and changes nothing."""

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit.api import AccessToken

from tests.support.clerk import clerk_user
from tests.support.credentials import LIVEKIT_KEY, LIVEKIT_SECRET, bearer
from tests.support.hostile import HOSTILE, json_values, nested
from tests.support.livekit import livekit_webhook
from tests.support.rows import interview_rows


@pytest.fixture
async def candidate(clerk: httpx.AsyncClient, session_token: Callable[..., str]) -> dict[str, str]:
    """The Authorization header of a signed-in user whom Clerk knows."""
    user = await clerk_user(clerk, email="hostile.candidate@example.com", first_name="Ada")
    return bearer(session_token(user["id"], lifetime_seconds=600))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({"participant_metadata": "x" * 4097}, "participant_metadata", id="metadata-over-4-KiB"),
        pytest.param({"participant_metadata": "é" * 2049}, "participant_metadata", id="metadata-over-4-KiB-utf8"),
        pytest.param(
            {"participant_attributes": {f"k{n}": "v" for n in range(10_000)}},
            "participant_attributes",
            id="attributes-10k-keys",
        ),
        pytest.param({"participant_attributes": {"k" * 65: "v"}}, "participant_attributes", id="attribute-key-long"),
        pytest.param(
            {"participant_attributes": {f"k{n}": "v" * 200 for n in range(30)}},
            "participant_attributes",
            id="attributes-over-4-KiB",
        ),
        pytest.param({"participant_name": "n" * 129}, "participant_name", id="name-over-128"),
        *(
            pytest.param({"participant_name": f"Ada{char}Lovelace"}, "participant_name", id=f"name-with-{label}")
            for label, char in [("cr", "\r"), ("lf", "\n"), ("nul", "\x00"), ("esc", "\x1b"), ("rlo", "\u202e")]
        ),
    ],
)
async def test_participant_fields_beyond_their_bounds_are_422_naming_the_field(
    sessions: httpx.AsyncClient, sessions_db: str, candidate: dict[str, str], fields: dict[str, Any], named: str
):
    response = await sessions.post("/api/livekit/token", headers=candidate, json=fields)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert named in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


async def test_participant_fields_within_bounds_are_accepted(sessions: httpx.AsyncClient, candidate: dict[str, str]):
    fields = {
        "participant_name": "Zoë Ōkubo 🎙",
        "participant_metadata": "m" * 4096,
        "participant_attributes": {f"k{n:02}": "v" * 100 for n in range(32)},
    }

    response = await sessions.post("/api/livekit/token", headers=candidate, json=fields)

    assert response.status_code == 201, response.text


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "position",
    [
        "9999-12-31T23:59:59-23:59",  # a valid datetime whose UTC instant is past year 9999
        "0001-01-01T00:00:00+23:59",  # and before year 1
        "2026-01-01T00:00:00",  # no offset at all
    ],
)
async def test_crafted_cursors_are_400(sessions: httpx.AsyncClient, candidate: dict[str, str], position: str):
    response = await sessions.get(
        "/api/interviews", params={"cursor": cursor_of(f"{position}|{uuid.uuid4()}")}, headers=candidate
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


@HOSTILE
@given(
    cursor=st.text(max_size=60)
    | st.builds(
        lambda when, tail: cursor_of(f"{when.isoformat()}|{tail}"),
        st.datetimes(timezones=st.timezones()),
        st.uuids() | st.text(max_size=5),
    )
)
async def test_random_cursors_never_fail_the_server(
    sessions: httpx.AsyncClient, candidate: dict[str, str], cursor: str
):
    response = await sessions.get("/api/interviews", params={"cursor": cursor}, headers=candidate)

    assert response.status_code in (200, 400), response.text


@pytest.mark.parametrize("path", ["/api/livekit/connection-details", "/api/livekit/token"])
async def test_bodies_nested_too_deep_to_read_are_400(
    sessions: httpx.AsyncClient, sessions_db: str, candidate: dict[str, str], path: str
):
    body = f'{{"room_config": {nested(5000)}}}'.encode()

    response = await sessions.post(path, headers={**candidate, "Content-Type": "application/json"}, content=body)

    assert response.status_code == 400
    assert await interview_rows(sessions_db) == []


def signed_livekit(body: bytes) -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return {"Authorization": AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_sha256(digest).to_jwt()}


async def test_livekit_event_with_a_time_out_of_range_is_400(sessions: httpx.AsyncClient, sessions_db: str):
    room = f"interview-{uuid.uuid4()}"
    body, auth = livekit_webhook("participant_joined", room, identity="user_2abc", created_at=2**62)

    response = await sessions.post("/webhooks/livekit", content=body, headers={"Authorization": auth})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


LIVEKIT_FIELDS = ["event", "room", "participant", "createdAt", "id", "track", "egressInfo", "numDropped"]


@HOSTILE
@given(
    event=st.dictionaries(st.sampled_from(LIVEKIT_FIELDS) | st.text(max_size=8), json_values, max_size=5),
    depth=st.sampled_from([0, 0, 50, 3000]),
)
async def test_signed_livekit_events_with_random_values_and_depths_never_fail_the_server(
    sessions: httpx.AsyncClient, sessions_db: str, event: dict[str, Any], depth: int
):
    body = json.dumps(event).encode()
    if depth:
        body = body[:-1] + (b", " if event else b"") + f'"deep": {nested(depth)}}}'.encode()

    response = await sessions.post("/webhooks/livekit", content=body, headers=signed_livekit(body))

    assert response.status_code in (200, 400), response.text
    assert await interview_rows(sessions_db) == []
