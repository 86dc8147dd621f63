"""The ensure-user RPC: a signed-in user always exists by the time their interview starts."""

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from deploy.dev.standins.clerk.payloads import deleted_event, make_user, update_user, user_event
from tests.support.clerk import clerk_user, deliver
from tests.support.metrics import sample
from tests.support.rows import millis, rows, user_row
from tests.support.waiting import eventually


async def clerk_requests(clerk: httpx.AsyncClient) -> int:
    return (await clerk.get("/_standin/stats")).json()["requests"].get("get_user", 0)


async def ensure(identity: httpx.AsyncClient, clerk_id: str) -> httpx.Response:
    return await identity.post("/internal/users/ensure", json={"clerk_id": clerk_id})


async def test_webhook_first_then_start_reads_the_stored_user_without_calling_clerk(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = await clerk_user(clerk, email="first@example.com", first_name="Early")
    await deliver(identity, svix_secret, user_event("user.created", user))

    response = await ensure(identity, user["id"])

    assert response.status_code == 200
    body = response.json()
    assert body["created"] is False
    assert body["user"]["first_name"] == "Early"
    assert body["user"]["created_via"] == "webhook"
    assert await clerk_requests(clerk) == 0
    assert len(await rows(identity_db)) == 1


async def test_start_before_webhook_creates_the_user_from_clerk_and_late_webhook_adds_no_duplicate(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = await clerk_user(clerk, email="late@example.com", first_name="Late", last_name="Hook")

    response = await ensure(identity, user["id"])

    assert response.status_code == 200
    body = response.json()
    assert body["created"] is True
    assert (body["user"]["email"], body["user"]["first_name"]) == ("late@example.com", "Late")
    assert body["user"]["created_via"] == "ensure"
    assert body["user"]["profile_status"] == "complete"
    assert await clerk_requests(clerk) == 1

    late = await deliver(identity, svix_secret, user_event("user.created", user))

    assert late.json() == {"outcome": "stale"}  # same updated_at: nothing newer to apply
    stored = await rows(identity_db)
    assert len(stored) == 1
    assert stored[0]["first_name"] == "Late"


async def test_user_missing_from_our_database_but_alive_in_clerk_is_recreated(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = await clerk_user(clerk, email="restored@example.com")
    await deliver(identity, svix_secret, user_event("user.created", user))
    await rows(identity_db, "DELETE FROM users WHERE clerk_id = $1 RETURNING id", user["id"])

    response = await ensure(identity, user["id"])

    assert response.status_code == 200
    assert response.json()["created"] is True
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["email"] == "restored@example.com"


async def test_concurrent_starts_for_unknown_users_make_one_row_and_one_clerk_request_each(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    users = [await clerk_user(clerk, email=f"storm{n}@example.com") for n in range(10)]
    await clerk.put("/_standin/faults", json={"latency_seconds": 0.2})  # keep requests in flight together

    responses = await asyncio.gather(*(ensure(identity, users[n % 10]["id"]) for n in range(100)))

    assert [r.status_code for r in responses] == [200] * 100
    created = [r.json()["user"]["clerk_id"] for r in responses if r.json()["created"]]
    assert sorted(created) == sorted(u["id"] for u in users)  # exactly one creator per user
    assert len({r.json()["user"]["id"] for r in responses}) == 10
    assert len(await rows(identity_db)) == 10
    assert await clerk_requests(clerk) <= 10


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"fail_status": 503}, id="clerk-failing"),
        pytest.param({"latency_seconds": 3}, id="clerk-slower-than-the-timeout"),
        pytest.param({"rate_limit_count": 100, "retry_after_seconds": 30}, id="clerk-rate-limiting"),
    ],
)
async def test_clerk_unavailable_still_creates_the_user_with_a_pending_profile_that_the_webhook_completes(
    identity: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    identity_db: str,
    svix_secret: str,
    faults: dict[str, Any],
):
    user = await clerk_user(clerk, email="pending@example.com", first_name="Patience")
    await clerk.put("/_standin/faults", json=faults)

    response = await ensure(identity, user["id"])

    assert response.status_code == 200
    body = response.json()
    assert body["created"] is True
    assert body["user"]["profile_status"] == "pending"
    assert body["user"]["email"] is None

    completed = await deliver(identity, svix_secret, user_event("user.created", user))

    assert completed.json() == {"outcome": "applied"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert (row["profile_status"], row["email"], row["first_name"]) == (
        "complete",
        "pending@example.com",
        "Patience",
    )
    assert row["created_via"] == "ensure"


async def test_rate_limit_is_waited_out_when_retry_after_is_short(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient
):
    user = await clerk_user(clerk, email="patient@example.com")
    await clerk.put("/_standin/faults", json={"rate_limit_count": 1, "retry_after_seconds": 0})

    response = await ensure(identity, user["id"])

    assert response.json()["user"]["profile_status"] == "complete"
    assert await clerk_requests(clerk) == 2


async def test_user_unknown_to_clerk_is_404_and_writes_nothing(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    response = await ensure(identity, "user_2doesnotexist0000000000000")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "User not found"
    assert await rows(identity_db) == []


async def test_deleted_user_is_410(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="deleted@example.com")
    await deliver(identity, svix_secret, deleted_event(user["id"]))

    response = await ensure(identity, user["id"])

    assert response.status_code == 410
    assert response.json()["status"] == 410
    assert await clerk_requests(clerk) == 0


@pytest.mark.parametrize(
    "clerk_id", ["", "bob", "user_", "user_abc/../x", "org_2abc", "user_" + "a" * 80, "user_abc\n", "user_a\u0000b"]
)
async def test_malformed_ids_are_422_and_write_nothing(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, clerk_id: str
):
    response = await ensure(identity, clerk_id)

    assert response.status_code == 422
    assert response.json()["type"] == "urn:problem:malformed-clerk-id"
    assert await rows(identity_db) == []
    assert await clerk_requests(clerk) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 400), (b"not json", 400), (b"[]", 400), (b'{"clerk": "user_abc"}', 400), (b'{"clerk_id": 42}', 422)],
    ids=repr,
)
async def test_malformed_bodies_are_4xx_problems(
    identity: httpx.AsyncClient, identity_db: str, body: bytes, status: int
):
    """Not the object asked for: 400; the object with a field of the wrong type: 422 naming it."""
    response = await identity.post("/internal/users/ensure", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= response.json().keys()
    assert await rows(identity_db) == []


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token-0123456789", "Basic aW50ZXJuYWw=", "Bearer "], ids=repr
)
async def test_internal_routes_need_a_valid_token(
    identity: httpx.AsyncClient, identity_db: str, authorization: str | None
):
    headers = {} if authorization is None else {"Authorization": authorization}
    del identity.headers["Authorization"]

    ensured = await identity.post("/internal/users/ensure", json={"clerk_id": "user_abc"}, headers=headers)
    read = await identity.get("/internal/users/user_abc", headers=headers)

    assert (ensured.status_code, read.status_code) == (401, 401)
    assert ensured.headers["www-authenticate"].startswith("Bearer")
    assert await rows(identity_db) == []


async def test_previous_token_still_works_during_rotation(identity: httpx.AsyncClient, clerk: httpx.AsyncClient):
    user = await clerk_user(clerk, email="rotate@example.com")

    response = await identity.post(
        "/internal/users/ensure",
        json={"clerk_id": user["id"]},
        headers={"Authorization": "Bearer previous-internal-token-0123456789"},
    )

    assert response.status_code == 200


async def test_read_user_returns_the_stored_row_including_tombstones(identity: httpx.AsyncClient, svix_secret: str):
    user = make_user(email="read@example.com", first_name="Reader")
    newer = update_user(user, first_name="Reader2")
    await deliver(identity, svix_secret, user_event("user.created", user))
    await deliver(identity, svix_secret, user_event("user.updated", newer))

    live = await identity.get(f"/internal/users/{user['id']}")
    await deliver(identity, svix_secret, deleted_event(user["id"]))
    gone = await identity.get(f"/internal/users/{user['id']}")
    unknown = await identity.get("/internal/users/user_2unknown")

    assert live.status_code == 200
    assert live.json()["user"]["first_name"] == "Reader2"
    assert millis(datetime.fromisoformat(live.json()["user"]["clerk_updated_at"])) == newer["updated_at"]
    assert gone.json()["user"]["deleted_at"] is not None
    assert unknown.status_code == 404


async def test_a_pending_profile_completes_itself_once_clerk_is_back_and_the_caller_never_waits(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    user = await clerk_user(clerk, email="comes.back@example.com", first_name="Back")
    await clerk.put("/_standin/faults", json={"fail_status": 503})
    assert (await ensure(identity, user["id"])).json()["user"]["profile_status"] == "pending"
    await clerk.delete("/_standin/faults")  # Clerk is back

    meanwhile = await ensure(identity, user["id"])

    # answered with what is stored: had it waited for Clerk, the profile would already be complete
    assert meanwhile.json()["user"]["profile_status"] == "pending"

    async def completed() -> bool:
        row = await user_row(identity_db, user["id"])
        return row is not None and row["profile_status"] == "complete"

    assert await eventually(completed)
    after = (await ensure(identity, user["id"])).json()["user"]
    assert (after["email"], after["first_name"]) == ("comes.back@example.com", "Back")


async def test_a_pending_profile_asks_clerk_at_most_once_in_ten_seconds_however_often_the_user_starts(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient
):
    user = await clerk_user(clerk, email="still.down@example.com")
    await clerk.put("/_standin/faults", json={"fail_status": 503})
    assert (await ensure(identity, user["id"])).json()["user"]["profile_status"] == "pending"
    before = (await identity.get("/metrics")).text

    answers = [await ensure(identity, user["id"]) for _ in range(5)]

    after = (await identity.get("/metrics")).text
    assert all(answer.json()["user"]["profile_status"] == "pending" for answer in answers)

    def counted(outcome: str) -> float:
        name = "identity_pending_profile_refreshes_total"
        return sample(after, name, outcome=outcome) - sample(before, name, outcome=outcome)

    assert (counted("asked"), counted("throttled")) == (1, 4)

    async def the_one_refresh_ran() -> bool:  # and failed: Clerk is still down
        metrics = (await identity.get("/metrics")).text
        name = "identity_pending_profile_refreshes_total"
        return sample(metrics, name, outcome="clerk_unavailable") > sample(before, name, outcome="clerk_unavailable")

    assert await eventually(the_one_refresh_ran)
