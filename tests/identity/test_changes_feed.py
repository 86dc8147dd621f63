"""The users' changes feed: each deletion, ban and lock, written with the user write itself, served in
commit order; a reader resuming from its cursor misses nothing, even when transactions commit out of order."""

from typing import Any

import asyncpg
import httpx
import pytest

from deploy.dev.standins.clerk.payloads import deleted_event, make_user, update_user, user_event
from tests.support.clerk import deliver


async def read_feed(identity: httpx.AsyncClient, after: str | None = None, limit: int = 100) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
    response = await identity.get("/internal/users/changes", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_deletions_bans_and_locks_appear_in_order_and_plain_updates_do_not(
    identity: httpx.AsyncClient, svix_secret: str
):
    user = make_user(email="followed@example.com")
    steps = [
        user_event("user.created", user),
        user_event("user.updated", user := update_user(user, first_name="Renamed")),
        user_event("user.updated", user := update_user(user, banned=True)),
        user_event("user.updated", user := update_user(user, banned=False, locked=True)),
        user_event("user.updated", user := update_user(user, locked=False)),
        deleted_event(user["id"]),
    ]
    for event in steps:
        assert (await deliver(identity, svix_secret, event)).json()["outcome"] == "applied"

    first = await read_feed(identity, limit=2)
    rest = await read_feed(identity, first["next_cursor"])
    again = await read_feed(identity, rest["next_cursor"])

    changes = [item["change"] for item in first["items"] + rest["items"]]
    assert changes == ["banned", "unbanned", "locked", "unlocked", "deleted"]
    assert {item["clerk_id"] for item in first["items"] + rest["items"]} == {user["id"]}
    assert (again["items"], again["next_cursor"]) == ([], rest["next_cursor"])


async def test_two_transactions_committing_out_of_order_are_both_seen_once(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    early, late = make_user(email="early@example.com"), make_user(email="late@example.com")
    for user in (early, late):
        await deliver(identity, svix_secret, user_event("user.created", user))
    start = (await read_feed(identity))["next_cursor"]
    seen: list[dict[str, Any]] = []
    cursor = start

    async def poll() -> None:
        nonlocal cursor
        page = await read_feed(identity, cursor)
        seen.extend(page["items"])
        cursor = page["next_cursor"]

    first, second = await asyncpg.connect(identity_db), await asyncpg.connect(identity_db)
    try:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await first.execute("UPDATE users SET banned = true WHERE clerk_id = $1", early["id"])  # lower position
        await second_tx.start()
        await second.execute("UPDATE users SET banned = true WHERE clerk_id = $1", late["id"])  # higher position
        await second_tx.commit()  # the higher position commits first
        await poll()
        assert seen == []  # held back: an older transaction is still in flight
        await first_tx.commit()
        await poll()
    finally:
        await first.close()
        await second.close()
    await poll()

    assert [(item["clerk_id"], item["change"]) for item in seen] == [(early["id"], "banned"), (late["id"], "banned")]


async def test_a_transaction_that_got_its_id_first_but_wrote_last_is_not_skipped(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    slow, fast = make_user(email="slow@example.com"), make_user(email="fast@example.com")
    for user in (slow, fast):
        await deliver(identity, svix_secret, user_event("user.created", user))
    cursor = (await read_feed(identity))["next_cursor"]
    slow_conn = await asyncpg.connect(identity_db)
    try:
        slow_tx = slow_conn.transaction()
        await slow_tx.start()
        await slow_conn.fetchval("SELECT pg_current_xact_id()")  # its id is older than fast's
        await deliver(identity, svix_secret, user_event("user.updated", update_user(fast, locked=True)))
        between = await read_feed(identity, cursor)
        await slow_conn.execute("UPDATE users SET locked = true WHERE clerk_id = $1", slow["id"])
        await slow_tx.commit()
    finally:
        await slow_conn.close()
    after = await read_feed(identity, between["next_cursor"])

    assert between["items"] == []
    assert [item["clerk_id"] for item in after["items"]] == [slow["id"], fast["id"]]


@pytest.mark.parametrize("cursor", ["abc", "1.2.3", "1", "-1.2", "99999999999999999999.1", "1.2\n"])
async def test_cursors_the_feed_never_returned_are_400(identity: httpx.AsyncClient, cursor: str):
    response = await identity.get("/internal/users/changes", params={"after": cursor})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_feed_needs_the_internal_token(identity: httpx.AsyncClient):
    response = await identity.get("/internal/users/changes", headers={"Authorization": "Bearer wrong-token-000000"})

    assert response.status_code == 401
