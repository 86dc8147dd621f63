"""Banned and locked users, as Clerk reports them (webhook, ensure or backfill): stored as Clerk says, and
refused by ensure-user with a 403 of their own, until Clerk lifts the ban or the lock."""

import httpx
import pytest

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.payloads import make_user, update_user, user_event
from tests.identity.test_backfill import backfill_env, run_backfill
from tests.support.clerk import clerk_user, deliver
from tests.support.rows import user_row


async def ensure(identity: httpx.AsyncClient, clerk_id: str) -> httpx.Response:
    return await identity.post("/internal/users/ensure", json={"clerk_id": clerk_id})


@pytest.mark.parametrize(("flag", "problem"), [("banned", "user-banned"), ("locked", "user-locked")])
async def test_a_ban_or_lock_by_webhook_refuses_ensure_until_it_is_lifted(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str, flag: str, problem: str
):
    user = make_user(email=f"{flag}@example.com")
    await deliver(identity, svix_secret, user_event("user.created", user))
    assert (await ensure(identity, user["id"])).status_code == 200
    restricted = update_user(user, **{flag: True})

    assert (await deliver(identity, svix_secret, user_event("user.updated", restricted))).json()["outcome"] == "applied"
    refused = await ensure(identity, user["id"])

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == f"urn:problem:{problem}"
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert row[flag] is True

    await deliver(identity, svix_secret, user_event("user.updated", update_user(restricted, **{flag: False})))
    assert (await ensure(identity, user["id"])).status_code == 200


async def test_a_user_banned_at_first_sight_is_stored_banned_and_refused(
    identity: httpx.AsyncClient, clerk: httpx.AsyncClient, identity_db: str
):
    user = await clerk_user(clerk, email="banned.first@example.com")
    await clerk.patch(f"/_standin/users/{user['id']}", json={"banned": True, "deliver": False})

    refused = await ensure(identity, user["id"])

    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:problem:user-banned"
    row = await user_row(identity_db, user["id"])
    assert row is not None
    assert (row["banned"], row["email"]) == (True, "banned.first@example.com")


async def test_the_backfill_stores_bans_and_locks(
    clerk: httpx.AsyncClient, clerk_standin: ServiceProcess, identity_db: str, svix_secret: str
):
    banned = await clerk_user(clerk, email="backfill.banned@example.com")
    locked = await clerk_user(clerk, email="backfill.locked@example.com")
    await clerk.patch(f"/_standin/users/{banned['id']}", json={"banned": True, "deliver": False})
    await clerk.patch(f"/_standin/users/{locked['id']}", json={"locked": True, "deliver": False})

    run_backfill(backfill_env(identity_db, clerk_standin, svix_secret))

    banned_row, locked_row = await user_row(identity_db, banned["id"]), await user_row(identity_db, locked["id"])
    assert banned_row is not None
    assert locked_row is not None
    assert (banned_row["banned"], banned_row["locked"]) == (True, False)
    assert (locked_row["banned"], locked_row["locked"]) == (False, True)
