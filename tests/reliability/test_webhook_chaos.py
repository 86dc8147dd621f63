"""Webhook chaos: 2,000 users' histories delivered shuffled, repeated, some stale or forged, over concurrent
connections to a real identity process; the table ends equal to Clerk's final state, field by field."""

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from deploy.dev.stack import ServiceProcess
from deploy.dev.standins.clerk.payloads import deleted_event, make_user, update_user, user_event
from deploy.dev.standins.clerk.signing import sign_webhook
from tests.support.credentials import identity_env
from tests.support.postgres import PostgresForTests
from tests.support.rows import millis, rows

USERS = 2_000
CONNECTIONS = 8


@pytest.fixture
async def identity_process(
    postgres: PostgresForTests, clerk_standin: ServiceProcess, svix_secret: str, tmp_path: Path
) -> AsyncIterator[tuple[ServiceProcess, str]]:
    database = await postgres.create_database(postgres.migrated_template("identity"))
    url = postgres.url_for(database)
    env = identity_env(url, clerk_standin.url, svix_secret)
    process = ServiceProcess("services.identity", env, tmp_path / "i.log", ready_path="/readyz")
    yield process.start(), url
    process.stop()
    await postgres.drop_database(database)


def clerk_history(rng: random.Random) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, dict[str, Any] | None]]:
    """Every user's events in Clerk's order, each with its Svix message id, and each user's final state."""
    events: list[tuple[str, dict[str, Any]]] = []
    final: dict[str, dict[str, Any] | None] = {}
    for n in range(USERS):
        user = make_user(email=f"chaos{n}@example.com", first_name="v0", phone="+15555550100" if n % 7 == 0 else None)
        history = [user_event("user.created", user)]
        for version in range(1, rng.randint(1, 4)):
            user = update_user(user, first_name=f"v{version}", email=f"chaos{n}.v{version}@example.com")
            history.append(user_event("user.updated", user))
        final[user["id"]] = user
        if rng.random() < 0.15:
            history.append(deleted_event(user["id"]))
            final[user["id"]] = None
        events += [(f"msg_chaos_{n}_{index}", event) for index, event in enumerate(history)]
    return events, final


async def test_shuffled_repeated_forged_and_stale_deliveries_converge_to_clerks_final_state(
    identity_process: tuple[ServiceProcess, str], svix_secret: str
):
    identity, database_url = identity_process
    rng = random.Random(6)  # noqa: S311 (a reproducible shuffle, not a secret)
    events, final = clerk_history(rng)
    deliveries: list[tuple[bytes, dict[str, str], bool]] = []  # body, headers, genuine
    for svix_id, event in events:
        body = msgspec.json.encode(event)
        deliveries += [(body, sign_webhook(svix_secret, body, msg_id=svix_id), True)] * rng.randint(1, 3)
        if rng.random() < 0.1:  # replayed long after: Svix's timestamp tolerance refuses it
            old = datetime.now(UTC) - timedelta(minutes=30)
            deliveries.append((body, sign_webhook(svix_secret, body, msg_id=svix_id, timestamp=old), False))
        if rng.random() < 0.05:  # forged: the body no longer matches its signature
            forged = body[:-1] + b',"first_name":"hacked"}'  # a later key wins in JSON
            deliveries.append((forged, sign_webhook(svix_secret, body, msg_id=svix_id), False))
    rng.shuffle(deliveries)

    outcomes: Counter[str] = Counter()
    queue: asyncio.Queue[tuple[bytes, dict[str, str], bool]] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)

    async def connection(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body, headers, genuine = queue.get_nowait()
            response = await client.post("/webhooks/clerk", content=body, headers=headers)
            if genuine:
                assert response.status_code == 200, response.text
                outcomes[response.json()["outcome"]] += 1
            else:
                assert response.status_code == 401, response.text
                outcomes["rejected"] += 1

    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=identity.url, limits=limits, timeout=30) as client:
        await asyncio.gather(*(connection(client) for _ in range(CONNECTIONS)))

    print(f"\nwebhook chaos: {len(deliveries)} deliveries of {len(events)} events for {USERS} users: {dict(outcomes)}")
    genuine = sum(1 for _, _, ok in deliveries if ok)
    assert outcomes["applied"] + outcomes["stale"] == len(events)  # every event decided exactly once
    assert outcomes["duplicate"] == genuine - len(events)
    assert outcomes["rejected"] == len(deliveries) - genuine
    stored = {row["clerk_id"]: row for row in await rows(database_url)}
    assert stored.keys() == final.keys()
    for clerk_id, expected in final.items():
        row = stored[clerk_id]
        if expected is None:
            assert (row["deleted_at"] is not None, row["email"], row["first_name"]) == (True, None, None)
            continue
        primary = next(e for e in expected["email_addresses"] if e["id"] == expected["primary_email_address_id"])
        phone = expected["phone_numbers"][0]["phone_number"] if expected["phone_numbers"] else None
        assert (row["deleted_at"], row["email"], row["phone"], row["first_name"], millis(row["clerk_updated_at"])) == (
            None,
            primary["email_address"],
            phone,
            expected["first_name"],
            expected["updated_at"],
        )
