"""Starting an interview: the user exists afterwards whatever identity knew before, and the LiveKit token
grants exactly that one room."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import msgspec
import pytest

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.payloads import deleted_event
from tests.support.clerk import clerk_user, deliver
from tests.support.credentials import INTERNAL_TOKEN, bearer
from tests.support.livekit import report_join, verify_livekit_token
from tests.support.metrics import sample
from tests.support.rows import interview_rows


async def identity_user(identity_service: ServiceProcess, clerk_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=identity_service.url) as client:
        return await client.get(f"/internal/users/{clerk_id}", headers=bearer(INTERNAL_TOKEN))


async def test_user_unknown_to_identity_starts_an_interview_and_exists_afterwards(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    identity_service: ServiceProcess,
    sessions_db: str,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="first.timer@example.com", first_name="Ada", last_name="Lovelace")
    assert (await identity_user(identity_service, user["id"])).status_code == 404

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(user["id"])))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    details = response.json()
    assert details.keys() == {"serverUrl", "roomName", "participantName", "participantToken"}
    assert details["serverUrl"] == "ws://localhost:7880"
    assert details["participantName"] == "Ada Lovelace"
    claims = verify_livekit_token(details["participantToken"])
    assert claims.identity == user["id"]
    assert claims.name == "Ada Lovelace"
    assert claims.video is not None
    assert (claims.video.room_join, claims.video.room) == (True, details["roomName"])
    assert (claims.video.can_publish, claims.video.can_subscribe, claims.video.can_publish_data) == (True, True, True)
    assert not claims.video.room_admin
    assert not claims.video.room_create
    assert [agent.agent_name for agent in claims.room_config.agents] == ["interviewer"]  # the default agent

    stored = (await identity_user(identity_service, user["id"])).json()["user"]
    assert stored["created_via"] == "ensure"
    rows = await interview_rows(sessions_db)
    assert len(rows) == 1
    assert (rows[0]["clerk_id"], rows[0]["room_name"], rows[0]["status"]) == (
        user["id"],
        details["roomName"],
        "created",
    )
    assert str(rows[0]["user_id"]) == stored["id"]
    assert rows[0]["agent_name"] == "interviewer"


async def test_a_start_after_the_last_interview_was_joined_gets_a_fresh_room(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="twice@example.com")
    headers = bearer(session_token(user["id"]))

    first = (await sessions.post("/api/livekit/connection-details", headers=headers)).json()
    await report_join(sessions, first["roomName"], user["id"])
    second = (await sessions.post("/api/livekit/connection-details", headers=headers)).json()

    assert first["roomName"] != second["roomName"]


async def test_reloads_get_the_unused_interview_back_with_a_fresh_token_never_a_pile(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="reloads@example.com")
    before = sample((await sessions.get("/metrics")).text, "sessions_interviews_reused_total")

    loads = [
        await sessions.post("/api/livekit/token", json={}, headers=bearer(session_token(user["id"]))) for _ in range(10)
    ]
    coach = await sessions.post(
        "/api/livekit/token",
        json={"room_config": {"agents": [{"agent_name": "coach"}]}},
        headers=bearer(session_token(user["id"])),
    )

    assert [load.status_code for load in loads] == [201] * 10
    tokens = [load.json()["participant_token"] for load in loads]  # each valid from the start it answered
    rooms = {verify_livekit_token(token).video.room for token in tokens}  # type: ignore[union-attr]
    assert len(rooms) == 1
    rows = await interview_rows(sessions_db)
    assert len(rows) == 2  # the default agent's, reused nine times, and the coach's: another agent, another room
    assert coach.status_code == 201
    assert verify_livekit_token(coach.json()["participant_token"]).video.room not in rooms  # type: ignore[union-attr]
    after = sample((await sessions.get("/metrics")).text, "sessions_interviews_reused_total")
    assert after - before == 9


async def test_a_reload_soon_after_gets_the_same_token_and_writes_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="reload-window@example.com")
    headers = bearer(session_token(user["id"]))
    version = "SELECT xmin::text AS version, token_expires_at FROM interviews"  # xmin: the row version's writer

    first = (await sessions.post("/api/livekit/token", json={}, headers=headers)).json()["participant_token"]
    [written] = await interview_rows(sessions_db, version)
    again = (await sessions.post("/api/livekit/token", json={}, headers=headers)).json()["participant_token"]

    assert again == first  # the same claims within the reuse window (30 s of a 900 s token)
    assert await interview_rows(sessions_db, version) == [written]  # not even a new row version
    exp = jwt.decode(first, options={"verify_signature": False})["exp"]
    assert exp <= written["token_expires_at"].timestamp() < exp + 30  # recorded: the token's exp, rounded up

    await interview_rows(sessions_db, "UPDATE interviews SET token_expires_at = now() + interval '1 minute'")
    assert (await sessions.post("/api/livekit/token", json={}, headers=headers)).status_code == 201
    [moved] = await interview_rows(sessions_db, version)
    assert moved["token_expires_at"].timestamp() >= exp  # a recorded expiry that no longer covers it is moved


async def test_concurrent_first_loads_make_one_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="tabs@example.com")

    answers = await asyncio.gather(
        *(sessions.post("/api/livekit/token", json={}, headers=bearer(session_token(user["id"]))) for _ in range(8))
    )

    assert [answer.status_code for answer in answers] == [201] * 8
    assert len(await interview_rows(sessions_db)) == 1


async def test_the_agent_gets_the_client_s_metadata_inside_the_server_s_interview_context(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="config@example.com")
    room_config = {"agents": [{"agent_name": "coach", "metadata": '{"role": "backend"}'}], "newerField": 1}

    response = await sessions.post(
        "/api/livekit/connection-details", json={"room_config": room_config}, headers=bearer(session_token(user["id"]))
    )

    assert response.status_code == 200
    claims = verify_livekit_token(response.json()["participantToken"])
    [row] = await interview_rows(sessions_db)
    [dispatch] = claims.room_config.agents
    assert dispatch.agent_name == row["agent_name"] == "coach"
    context = {"interview_id": str(row["id"]), "clerk_id": user["id"], "metadata": '{"role": "backend"}'}
    assert msgspec.json.decode(dispatch.metadata) == context
    limits = claims.room_config.max_participants, claims.room_config.empty_timeout, claims.room_config.departure_timeout
    assert limits == (3, 300, 60)


@pytest.mark.parametrize(
    ("room_config", "named"),
    [
        ({"egress": {"room": {"room_name": "x"}}}, "room_config.egress"),
        ({"max_participants": 50}, "room_config.max_participants"),
        ({"emptyTimeout": 86400}, "room_config.empty_timeout"),
        ({"departure_timeout": 86400}, "room_config.departure_timeout"),
        ({"metadata": "x"}, "room_config.metadata"),
        ({"sync_streams": True}, "room_config.sync_streams"),
        ({"min_playout_delay": 1}, "room_config.min_playout_delay"),
        ({"max_playout_delay": 1}, "room_config.max_playout_delay"),
        ({"tags": {"a": "b"}}, "room_config.tags"),
        ({"name": "my-room"}, "room_config.name"),
        ({"agents": [{"agent_name": "coach", "deployment": "x"}]}, "room_config.agents[0].deployment"),
        ({"agents": [{"agent_name": "coach", "attributes": {"a": "b"}}]}, "room_config.agents[0].attributes"),
        ({"agents": [{"agent_name": "coach", "restart_policy": "JRP_NEVER"}]}, "room_config.agents[0].restart_policy"),
        ({"agents": [{"agent_name": "anyone-at-all"}]}, "room_config.agents[0].agent_name"),
        ({"agents": [{"agent_name": "coach", "metadata": "x" * 4097}]}, "room_config.agents[0].metadata"),
    ],
)
async def test_room_config_fields_a_client_may_not_set_are_422_naming_them_and_record_nothing(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    sessions_db: str,
    session_token: Callable[..., str],
    room_config: dict[str, Any],
    named: str,
):
    user = await clerk_user(clerk, email="greedy@example.com")
    headers = bearer(session_token(user["id"]))

    for path in ("/api/livekit/connection-details", "/api/livekit/token"):
        response = await sessions.post(path, json={"room_config": room_config}, headers=headers)

        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert named in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


async def test_token_endpoint_starts_then_rejoins_without_a_new_interview(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="token@example.com", first_name="Tok")
    headers = bearer(session_token(user["id"]))

    started = await sessions.post(
        "/api/livekit/token",
        json={"participant_name": "Tok E.", "participant_attributes": {"lang": "en"}},
        headers=headers,
    )
    assert started.status_code == 201
    assert started.json().keys() == {"server_url", "participant_token"}
    claims = verify_livekit_token(started.json()["participant_token"])
    assert (claims.identity, claims.name, claims.attributes) == (user["id"], "Tok E.", {"lang": "en"})
    room = claims.video.room if claims.video else None

    rejoined = await sessions.post(
        "/api/livekit/token", json={"room_name": room, "participant_identity": user["id"]}, headers=headers
    )

    assert rejoined.status_code == 201
    assert verify_livekit_token(rejoined.json()["participant_token"]).video.room == room  # type: ignore[union-attr]
    assert len(await interview_rows(sessions_db)) == 1


async def test_another_users_identity_or_room_is_refused_and_records_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    alice = await clerk_user(clerk, email="alice@example.com")
    mallory = await clerk_user(clerk, email="mallory@example.com")
    alices = await sessions.post("/api/livekit/token", headers=bearer(session_token(alice["id"])))
    alices_room = verify_livekit_token(alices.json()["participant_token"]).video.room  # type: ignore[union-attr]
    as_mallory = bearer(session_token(mallory["id"]))

    other_identity = await sessions.post(
        "/api/livekit/token", json={"participant_identity": alice["id"]}, headers=as_mallory
    )
    other_room = await sessions.post("/api/livekit/token", json={"room_name": alices_room}, headers=as_mallory)
    unknown_room = await sessions.post("/api/livekit/token", json={"room_name": "interview-nope"}, headers=as_mallory)

    for response in (other_identity, other_room, unknown_room):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    assert [row["clerk_id"] for row in await interview_rows(sessions_db)] == [alice["id"]]


async def test_malformed_room_config_is_422_and_records_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="bad.config@example.com")

    response = await sessions.post(
        "/api/livekit/connection-details",
        json={"room_config": {"agents": "not-a-list"}},
        headers=bearer(session_token(user["id"])),
    )

    assert response.status_code == 422
    assert await interview_rows(sessions_db) == []


async def test_user_deleted_in_clerk_is_403_and_records_nothing(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    identity_service: ServiceProcess,
    sessions_db: str,
    svix_secret: str,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="deleted@example.com")
    async with httpx.AsyncClient(base_url=identity_service.url) as identity:
        assert (await deliver(identity, svix_secret, deleted_event(user["id"]))).status_code == 200

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(user["id"])))

    assert response.status_code == 403
    assert msgspec.json.decode(response.content)["status"] == 403
    assert await interview_rows(sessions_db) == []


async def test_a_banned_or_locked_user_is_403_and_records_nothing(
    sessions: httpx.AsyncClient, clerk: httpx.AsyncClient, sessions_db: str, session_token: Callable[..., str]
):
    for flag in ("banned", "locked"):
        user = await clerk_user(clerk, email=f"start.{flag}@example.com")
        await clerk.patch(f"/_standin/users/{user['id']}", json={flag: True, "deliver": False})

        response = await sessions.post("/api/livekit/connection-details", headers=bearer(session_token(user["id"])))

        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert f"is {flag} in Clerk" in response.json()["detail"]
    assert await interview_rows(sessions_db) == []


@pytest.mark.parametrize(
    ("claims", "name", "email"),
    [
        (
            {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
            "Grace Hopper",
            "grace@example.com",
        ),
        # an app's template variable with nothing behind it, or anything its settings put there: left out, no 401
        ({"email": "", "first_name": "Grace", "last_name": None, "username": 42}, "Grace", None),
        ({"email": "no-at-sign", "first_name": "G" * 300, "image_url": "http://plain", "username": "gh"}, "gh", None),
    ],
    ids=["whole profile", "empty and wrong types", "out of bounds"],
)
async def test_a_new_user_s_first_start_takes_the_profile_from_the_session_token_without_asking_clerk(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    identity_service: ServiceProcess,
    session_token: Callable[..., str],
    claims: dict[str, Any],
    name: str,
    email: str | None,
):
    user = await clerk_user(clerk, email="clerk.side@example.com", first_name="Clerk", last_name="Side")

    response = await sessions.post(
        "/api/livekit/connection-details", headers=bearer(session_token(user["id"], extra_claims=claims))
    )

    assert response.status_code == 200, response.text
    assert response.json()["participantName"] == name
    stored = (await identity_user(identity_service, user["id"])).json()["user"]
    assert (stored["created_via"], stored["email"]) == ("claims", email)
    stats = (await clerk.get("/_standin/stats")).json()["requests"]
    assert stats.get("get_user", 0) == 0


async def test_a_token_whose_claims_are_all_malformed_starts_as_before_clerk_asked(
    sessions: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    identity_service: ServiceProcess,
    session_token: Callable[..., str],
):
    user = await clerk_user(clerk, email="old.way@example.com", first_name="Old", last_name="Way")
    token = session_token(user["id"], extra_claims={"email": ["x"], "first_name": {"a": 1}, "last_name": ""})

    response = await sessions.post("/api/livekit/connection-details", headers=bearer(token))

    assert (response.status_code, response.json()["participantName"]) == (200, "Old Way")
    assert (await identity_user(identity_service, user["id"])).json()["user"]["created_via"] == "ensure"
