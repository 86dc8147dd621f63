"""A new user's first start without Clerk's round trip: the profile their session token carries goes with
ensure-user, and identity makes the user from it; it never writes over what Clerk said, nor brings back a deleted
user, and the webhook still converges the row."""

import httpx
import pytest

from deploy.dev.standins.clerk.payloads import deleted_event, make_user, update_user, user_event
from tests.support.clerk import clerk_user, deliver
from tests.support.metrics import sample
from tests.support.rows import user_row

CLAIMS = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "image_url": "https://img/a.png"}


async def clerk_requests(clerk: httpx.AsyncClient) -> int:
    return (await clerk.get("/_standin/stats")).json()["requests"].get("get_user", 0)


async def ensure(identity: httpx.AsyncClient, clerk_id: str, claims: dict[str, object]) -> httpx.Response:
    return await identity.post("/internal/users/ensure", json={"clerk_id": clerk_id, "claims": claims})


async def test_an_unknown_user_is_made_from_the_claims_without_asking_clerk_and_the_webhook_converges_it(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    user = await clerk_user(clerk, email="ada@clerk.example", first_name="Ada", last_name="King")
    before = (await identity.get("/metrics")).text

    response = await ensure(identity, user["id"], CLAIMS)
    again = await ensure(identity, user["id"], {**CLAIMS, "first_name": "Someone else"})

    after = (await identity.get("/metrics")).text
    assert response.status_code == 200, response.text
    assert (response.json()["created"], again.json()["created"]) == (True, False)
    made = response.json()["user"]
    assert (made["created_via"], made["profile_status"], made["clerk_updated_at"]) == ("claims", "complete", None)
    assert (made["email"], made["first_name"], made["last_name"]) == ("ada@example.com", "Ada", "Lovelace")
    assert again.json()["user"]["first_name"] == "Ada"  # claims never write over a stored row
    assert await clerk_requests(clerk) == 0
    grew = sample(after, "identity_users_created_total", path="ensure", cause="session_claims") - sample(
        before, "identity_users_created_total", path="ensure", cause="session_claims"
    )
    assert grew == 1

    assert (await deliver(identity, svix_secret, user_event("user.created", user))).json()["outcome"] == "applied"
    converged = await user_row(identity_db, user["id"])
    assert converged is not None
    assert (converged["email"], converged["last_name"], converged["created_via"]) == (
        "ada@clerk.example",
        "King",
        "claims",
    )


async def test_claims_never_write_over_what_clerk_said_nor_bring_back_a_deleted_user(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    known = make_user(email="known@example.com", first_name="Known")
    await deliver(identity, svix_secret, user_event("user.created", known))
    gone = make_user(email="gone@example.com")
    await deliver(identity, svix_secret, user_event("user.created", gone))
    await deliver(identity, svix_secret, deleted_event(gone["id"]))

    kept = await ensure(identity, known["id"], CLAIMS)
    refused = await ensure(identity, gone["id"], CLAIMS)
    newer = update_user(known, first_name="Renamed")
    await deliver(identity, svix_secret, user_event("user.updated", newer))

    assert (kept.json()["created"], kept.json()["user"]["first_name"], kept.json()["user"]["created_via"]) == (
        False,
        "Known",
        "webhook",
    )
    assert refused.status_code == 410
    tombstone = await user_row(identity_db, gone["id"])
    assert tombstone is not None
    assert (tombstone["deleted_at"] is not None, tombstone["email"]) == (True, None)
    assert (await user_row(identity_db, known["id"]) or {})["first_name"] == "Renamed"
    assert await clerk_requests(clerk) == 0


async def test_no_claims_means_clerk_is_asked_as_before(identity: httpx.AsyncClient, clerk: httpx.AsyncClient):
    user = await clerk_user(clerk, email="noclaims@example.com", first_name="Plain")

    response = await ensure(identity, user["id"], {})

    assert response.json()["user"]["created_via"] == "ensure"
    assert await clerk_requests(clerk) == 1


@pytest.mark.parametrize("claims", [{"email": 5}, {"first_name": "x" * 257}, {"username": "a\x00b"}], ids=repr)
async def test_claims_beyond_the_webhook_s_bounds_are_refused_and_make_nobody(
    identity: httpx.AsyncClient, identity_db: str, claims: dict[str, object]
):
    response = await ensure(identity, "user_2claimsOutOfBounds", claims)

    assert response.status_code == 422
    assert await user_row(identity_db, "user_2claimsOutOfBounds") is None


async def test_a_caller_about_to_trust_the_email_gets_clerk_s_word_not_the_claims(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    user = await clerk_user(clerk, email="ada@clerk.example")
    made = await ensure(identity, user["id"], {"email": "victim@example.com"})
    asked_before = await clerk_requests(clerk)

    trusted = await identity.post("/internal/users/ensure", json={"clerk_id": user["id"], "verified_email": True})
    again = await identity.post("/internal/users/ensure", json={"clerk_id": user["id"], "verified_email": True})

    assert (made.json()["user"]["email"], made.json()["user"]["email_verified"]) == ("victim@example.com", None)
    assert trusted.status_code == 200, trusted.text
    assert (trusted.json()["user"]["email"], trusted.json()["user"]["email_verified"]) == ("ada@clerk.example", True)
    assert again.json()["user"]["email_verified"] is True
    assert await clerk_requests(clerk) == asked_before + 1  # asked once: Clerk's word is kept
    stored = await user_row(identity_db, user["id"])
    assert stored is not None
    assert (stored["email"], stored["email_verified"]) == ("ada@clerk.example", True)


async def test_a_new_user_whose_email_is_to_be_trusted_is_made_from_clerk_even_with_claims(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient
):
    user = await clerk_user(clerk, email="grace@clerk.example", email_verified=False)

    response = await identity.post(
        "/internal/users/ensure",
        json={"clerk_id": user["id"], "claims": {"email": "grace@example.com"}, "verified_email": True},
    )

    made = response.json()["user"]
    assert (made["created_via"], made["email"], made["email_verified"]) == ("ensure", "grace@clerk.example", False)


async def test_webhooks_keep_whether_clerk_verified_the_primary_email(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    unverified = make_user(email="new@example.com", email_verified=False)
    await deliver(identity, svix_secret, user_event("user.created", unverified))
    first = await user_row(identity_db, unverified["id"])
    await deliver(identity, svix_secret, user_event("user.updated", update_user(unverified, email_verified=True)))
    then = await user_row(identity_db, unverified["id"])

    assert first is not None
    assert then is not None
    assert (first["email_verified"], then["email_verified"]) == (False, True)
