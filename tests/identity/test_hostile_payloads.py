"""Hostile Clerk payloads: what a user can put in their own metadata never stops their start, their webhooks
or the backfill; a signed event we truly cannot read is a 400 (Svix retries it) counted as malformed, and no
signed payload of any shape or depth is a 5xx or a half-written row."""

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.payloads import make_user, user_event
from tests.identity.test_backfill import backfill_env, run_backfill
from tests.support.clerk import deliver
from tests.support.hostile import HOSTILE, json_values, nested
from tests.support.metrics import sample
from tests.support.rows import rows, user_row

DEEP_METADATA = nested(1000)  # 2 KB, within Clerk's 8 KB for unsafe_metadata


async def user_with_deep_metadata(clerk: httpx.AsyncClient, email: str) -> str:
    """The Clerk id of a stand-in user whose unsafe_metadata is nested a thousand levels deep."""
    created = await clerk.post("/_standin/users", json={"email": email, "first_name": "Deep", "deliver": False})
    clerk_id: str = created.json()["user"]["id"]
    changed = await clerk.patch(f"/_standin/users/{clerk_id}", json={"unsafe_metadata_json": DEEP_METADATA})
    assert changed.status_code == 200
    assert DEEP_METADATA.encode() in changed.content  # the way Clerk would send it (not parsed here either)
    return clerk_id


async def test_a_user_with_deeply_nested_metadata_is_ensured_like_any_other(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    clerk_id = await user_with_deep_metadata(clerk, "deep.ensure@example.com")

    response = await identity.post("/internal/users/ensure", json={"clerk_id": clerk_id})

    assert response.status_code == 200, response.text
    assert response.json()["user"]["profile_status"] == "complete"
    row = await user_row(identity_db, clerk_id)
    assert row is not None
    assert (row["email"], row["first_name"]) == ("deep.ensure@example.com", "Deep")


async def test_a_webhook_with_deeply_nested_metadata_is_applied(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="deep.webhook@example.com", first_name="Deep")
    body = json.dumps(user_event("user.updated", user)).replace(
        '"unsafe_metadata": {}', f'"unsafe_metadata": {DEEP_METADATA}'
    )
    assert DEEP_METADATA in body

    response = await deliver(identity, svix_secret, body.encode())

    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "applied"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["email"] == "deep.webhook@example.com"


async def test_backfill_stores_a_user_with_deep_metadata_and_skips_only_one_it_cannot_read(
    clerk: httpx.AsyncClient, clerk_standin: ServiceProcess, identity_db: str, svix_secret: str
):
    await clerk.post("/_standin/users/bulk", json={"count": 3})
    await user_with_deep_metadata(clerk, "deep.backfill@example.com")
    unreadable = await clerk.post("/_standin/users", json={"email": "nul@example.com", "deliver": False})
    unreadable_id = unreadable.json()["user"]["id"]
    await clerk.patch(f"/_standin/users/{unreadable_id}", json={"first_name": "Nul\u0000Byte", "deliver": False})

    summary = run_backfill(backfill_env(identity_db, clerk_standin, svix_secret))

    assert (summary["seen"], summary["created"], summary["skipped"]) == (5, 4, 1)
    stored = {row["clerk_id"] for row in await rows(identity_db)}
    assert len(stored) == 4
    assert unreadable_id not in stored


@pytest.mark.parametrize(
    "data_changes",
    [
        pytest.param({"updated_at": 10**18}, id="updated-at-past-year-9999"),
        pytest.param({"created_at": -1}, id="created-at-negative"),
        pytest.param({"first_name": "Nul\u0000Byte"}, id="nul-in-a-name"),
        pytest.param({"id": "user_abc\n"}, id="id-with-newline"),
        pytest.param({"id": "user_" + "a" * 100}, id="id-too-long"),
    ],
)
async def test_signed_events_with_values_out_of_range_are_400_malformed_and_write_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str, data_changes: dict[str, Any]
):
    before = (await identity.get("/metrics")).text
    event = user_event("user.updated", {**make_user(email="range@example.com"), **data_changes})

    response = await deliver(identity, svix_secret, event)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await rows(identity_db) == []
    assert await rows(identity_db, "SELECT * FROM webhook_events") == []
    after = (await identity.get("/metrics")).text
    malformed = {"type": "unknown", "outcome": "malformed"}
    assert (
        sample(after, "identity_webhook_events_total", **malformed)
        - sample(before, "identity_webhook_events_total", **malformed)
        == 1
    )


async def test_a_svix_id_too_long_to_record_is_400(identity: httpx.AsyncClient, identity_db: str, svix_secret: str):
    response = await deliver(identity, svix_secret, user_event("user.created", make_user()), svix_id="msg_" + "x" * 100)

    assert response.status_code == 400
    assert await rows(identity_db, "SELECT * FROM webhook_events") == []


USER_FIELDS = ["id", "first_name", "last_name", "username", "image_url", "email_addresses"]
USER_FIELDS += ["primary_email_address_id", "phone_numbers", "created_at", "updated_at", "unsafe_metadata"]


@HOSTILE
@given(
    event_type=st.sampled_from(["user.created", "user.updated", "user.deleted", "session.created"]) | st.text(),
    changes=st.dictionaries(st.sampled_from(USER_FIELDS), json_values, max_size=4),
    depth=st.sampled_from([0, 0, 40, 3000]),
)
async def test_signed_events_of_any_shape_and_depth_never_fail_the_server(
    identity: httpx.AsyncClient,
    identity_db: str,
    svix_secret: str,
    event_type: str,
    changes: dict[str, Any],
    depth: int,
):
    user = make_user(email="fuzz@example.com") | changes
    if depth:
        user["public_metadata"] = {"__deep__": 0}
    body = json.dumps(user_event("user.created", user) | {"type": event_type})
    body = body.replace('{"__deep__": 0}', nested(depth))
    users_before = await rows(identity_db)

    response = await deliver(identity, svix_secret, body.encode())

    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert await rows(identity_db) == users_before
