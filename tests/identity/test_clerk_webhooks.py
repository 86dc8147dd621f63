"""Clerk webhooks: verified, applied once, and converging to Clerk's last word whatever the delivery order."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import msgspec

from deploy.dev.standins.clerk.payloads import deleted_event, make_user, other_event, update_user, user_event
from deploy.dev.standins.clerk.signing import sign_webhook
from tests.support.clerk import deliver
from tests.support.rows import millis, rows, user_row


async def test_user_created_webhook_stores_the_profile(identity: httpx.AsyncClient, identity_db: str, svix_secret: str):
    user = make_user(email="ada@example.com", first_name="Ada", last_name="Lovelace", username="ada")

    response = await deliver(identity, svix_secret, user_event("user.created", user))

    assert response.status_code == 200
    assert response.json() == {"outcome": "applied"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert (row["email"], row["first_name"], row["last_name"], row["username"]) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
        "ada",
    )
    assert row["created_via"] == "webhook"
    assert row["profile_status"] == "complete"
    assert millis(row["clerk_updated_at"]) == user["updated_at"]


async def test_primary_email_is_chosen_by_id_not_position(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="primary@example.com", extra_emails=["first-listed@example.com"])
    # Clerk does not promise the primary comes first; here it comes last.
    assert user["email_addresses"][0]["id"] != user["primary_email_address_id"]

    await deliver(identity, svix_secret, user_event("user.created", user))

    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["email"] == "primary@example.com"


async def test_users_without_email_and_users_sharing_an_email_are_both_valid(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    phone_only = make_user(email=None, phone="+15555550100")
    first = make_user(email="shared@example.com")
    second = make_user(email="shared@example.com")

    for user in (phone_only, first, second):
        assert (await deliver(identity, svix_secret, user_event("user.created", user))).status_code == 200

    stored = {row["clerk_id"]: row for row in await rows(identity_db)}
    assert stored[phone_only["id"]]["email"] is None
    assert stored[phone_only["id"]]["phone"] == "+15555550100"
    assert stored[first["id"]]["email"] == stored[second["id"]]["email"] == "shared@example.com"


async def test_redelivered_message_is_acknowledged_without_effect(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="old@example.com")
    updated = update_user(user, first_name="Grace")
    await deliver(identity, svix_secret, user_event("user.created", user), svix_id="msg_created")
    await deliver(identity, svix_secret, user_event("user.updated", updated), svix_id="msg_updated")

    # Svix redelivers the *created* message (same svix-id) after the update was applied.
    again = await deliver(identity, svix_secret, user_event("user.created", user), svix_id="msg_created")

    assert again.status_code == 200
    assert again.json() == {"outcome": "duplicate"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["first_name"] == "Grace"
    events = await rows(identity_db, "SELECT svix_id, outcome FROM webhook_events ORDER BY svix_id")
    assert events == [
        {"svix_id": "msg_created", "outcome": "applied"},
        {"svix_id": "msg_updated", "outcome": "applied"},
    ]


async def test_older_update_arriving_late_changes_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="a@example.com", first_name="One")
    second = update_user(user, first_name="Two")
    third = update_user(second, first_name="Three")
    await deliver(identity, svix_secret, user_event("user.created", user))
    await deliver(identity, svix_secret, user_event("user.updated", third))

    late = await deliver(identity, svix_secret, user_event("user.updated", second))

    assert late.json() == {"outcome": "stale"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["first_name"] == "Three"
    assert millis(row["clerk_updated_at"]) == third["updated_at"]


async def test_deleted_user_becomes_a_tombstone_without_profile(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="gone@example.com", first_name="Gone")
    await deliver(identity, svix_secret, user_event("user.created", user))

    response = await deliver(identity, svix_secret, deleted_event(user["id"]))

    assert response.json() == {"outcome": "applied"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["deleted_at"] is not None
    assert (row["email"], row["first_name"]) == (None, None)


async def test_no_late_event_resurrects_a_deleted_user(identity: httpx.AsyncClient, identity_db: str, svix_secret: str):
    user = make_user(email="x@example.com")
    newer = update_user(user, first_name="Zombie")
    await deliver(identity, svix_secret, user_event("user.created", user))
    await deliver(identity, svix_secret, deleted_event(user["id"]))

    created_again = await deliver(identity, svix_secret, user_event("user.created", user))
    updated_late = await deliver(identity, svix_secret, user_event("user.updated", newer))
    deleted_again = await deliver(identity, svix_secret, deleted_event(user["id"]))

    assert [r.json()["outcome"] for r in (created_again, updated_late, deleted_again)] == ["stale"] * 3
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["deleted_at"] is not None
    assert row["first_name"] is None


async def test_delete_arriving_before_create_still_wins(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = make_user(email="early@example.com")

    await deliver(identity, svix_secret, deleted_event(user["id"]))
    late_create = await deliver(identity, svix_secret, user_event("user.created", user))

    assert late_create.json() == {"outcome": "stale"}
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row["deleted_at"] is not None
    assert row["email"] is None


async def test_other_event_types_are_acknowledged_and_ignored(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    response = await deliver(identity, svix_secret, other_event("session.created"))

    assert response.status_code == 200
    assert response.json() == {"outcome": "ignored"}
    assert await rows(identity_db) == []


async def test_bad_signature_is_rejected_and_writes_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    event = user_event("user.created", make_user(email="forged@example.com"))
    body = msgspec.json.encode(event)
    headers = sign_webhook(svix_secret, body, msg_id="msg_forged")
    tampered = body.replace(b"forged@example.com", b"victim@example.com")

    response = await identity.post("/webhooks/clerk", content=tampered, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Invalid webhook signature"
    assert await rows(identity_db) == []
    assert await rows(identity_db, "SELECT * FROM webhook_events") == []


async def test_signature_with_another_secret_is_rejected(identity: httpx.AsyncClient, identity_db: str):
    from deploy.dev.standins.clerk.signing import new_svix_secret  # noqa: PLC0415

    response = await deliver(identity, new_svix_secret(), user_event("user.created", make_user(email="a@b.co")))

    assert response.status_code == 401
    assert await rows(identity_db) == []


async def test_stale_timestamp_is_rejected(identity: httpx.AsyncClient, identity_db: str, svix_secret: str):
    old = datetime.now(UTC) - timedelta(minutes=10)

    response = await deliver(
        identity, svix_secret, user_event("user.created", make_user(email="r@example.com")), timestamp=old
    )

    assert response.status_code == 401
    assert await rows(identity_db) == []


async def test_missing_or_malformed_signature_headers_are_401_not_500(identity: httpx.AsyncClient, identity_db: str):
    body = msgspec.json.encode(user_event("user.created", make_user(email="h@example.com")))
    no_headers = await identity.post("/webhooks/clerk", content=body)
    no_comma = await identity.post(
        "/webhooks/clerk",
        content=body,
        headers={
            "svix-id": "msg_1",
            "svix-timestamp": str(int(datetime.now(UTC).timestamp())),
            "svix-signature": "garbage-without-a-comma",
        },
    )

    assert (no_headers.status_code, no_comma.status_code) == (401, 401)
    assert await rows(identity_db) == []


async def test_signed_but_malformed_payload_is_400_and_writes_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    broken = {
        "type": "user.created",
        "object": "event",
        "data": {"id": "user_123", "created_at": "yesterday"},
    }

    response = await deliver(identity, svix_secret, broken)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await rows(identity_db) == []
    assert await rows(identity_db, "SELECT * FROM webhook_events") == []


async def test_other_methods_get_405_naming_post(identity: httpx.AsyncClient):
    response = await identity.get("/webhooks/clerk")

    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_body_streamed_past_the_limit_without_a_length_gets_413(identity: httpx.AsyncClient, identity_db: str):
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit must hold on what arrives
        for _ in range(3):
            yield b" " * (512 * 1024)

    response = await identity.post("/webhooks/clerk", content=chunks())

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await rows(identity_db, "SELECT * FROM webhook_events") == []
