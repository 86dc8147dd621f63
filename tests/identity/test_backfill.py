"""The backfill command: the users table ends equal to Clerk's, interrupted or not, rate-limited or not."""

import json
import os
import signal
import subprocess
import sys
from typing import Any

import httpx

from deploy.dev.stack import ROOT, ServiceProcess
from deploy.dev.standins.clerk.payloads import make_user, user_event
from tests.support.clerk import deliver
from tests.support.credentials import CLERK_SECRET_KEY, bearer, identity_env
from tests.support.rows import millis, rows


def backfill_env(identity_db: str, clerk_standin: ServiceProcess, svix_secret: str) -> dict[str, str]:
    return {**os.environ, **identity_env(identity_db, clerk_standin.url, svix_secret)}


def run_backfill(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "services.identity", "backfill", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "backfill: seen" in result.stderr  # progress is shown while it runs
    return json.loads(result.stdout.strip().splitlines()[-1])


async def clerk_users(clerk_standin: ServiceProcess) -> dict[str, dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(base_url=clerk_standin.url, headers=bearer(CLERK_SECRET_KEY)) as client:
        offset = 0
        while page := (await client.get("/v1/users", params={"limit": 500, "offset": offset})).json():
            users |= {user["id"]: user for user in page}
            offset += len(page)
    return users


async def assert_table_equals_clerk(identity_db: str, clerk_standin: ServiceProcess) -> None:
    expected = await clerk_users(clerk_standin)
    stored = {row["clerk_id"]: row for row in await rows(identity_db) if row["deleted_at"] is None}
    assert stored.keys() == expected.keys()
    for clerk_id, user in expected.items():
        primary = next(
            (e["email_address"] for e in user["email_addresses"] if e["id"] == user["primary_email_address_id"]),
            None,
        )
        row = stored[clerk_id]
        assert (row["email"], row["first_name"], millis(row["clerk_updated_at"])) == (
            primary,
            user["first_name"],
            user["updated_at"],
        )


async def test_backfill_creates_refreshes_and_tombstones_then_a_second_run_changes_nothing(
    identity: httpx.AsyncClient,
    clerk: httpx.AsyncClient,
    clerk_standin: ServiceProcess,
    identity_db: str,
    svix_secret: str,
):
    await clerk.post("/_standin/users/bulk", json={"count": 1200})
    stale = (await clerk.post("/_standin/users", json={"email": "stale@example.com", "deliver": False})).json()
    await deliver(identity, svix_secret, user_event("user.created", stale["user"]))
    await clerk.patch(f"/_standin/users/{stale['user']['id']}", json={"first_name": "Fresh", "deliver": False})
    gone = make_user(email="gone-from-clerk@example.com")
    await deliver(identity, svix_secret, user_event("user.created", gone))
    env = backfill_env(identity_db, clerk_standin, svix_secret)

    dry = run_backfill(env, "--dry-run")
    assert (dry["created"], dry["updated"], dry["tombstoned"]) == (1200, 1, 1)
    assert len(await rows(identity_db)) == 2  # a dry run writes nothing

    first = run_backfill(env)
    assert (first["seen"], first["created"], first["updated"], first["tombstoned"]) == (1201, 1200, 1, 1)
    await assert_table_equals_clerk(identity_db, clerk_standin)
    tombstone = [row for row in await rows(identity_db) if row["clerk_id"] == gone["id"]]
    assert tombstone[0]["deleted_at"] is not None

    second = run_backfill(env)
    assert (second["created"], second["updated"], second["tombstoned"], second["unchanged"]) == (
        0,
        0,
        0,
        1201,
    )
    created_by_backfill = await rows(identity_db, "SELECT count(*) AS n FROM users WHERE created_via = 'backfill'")
    assert created_by_backfill == [{"n": 1200}]


async def test_interrupted_rate_limited_backfill_completes_when_run_again(
    clerk: httpx.AsyncClient, clerk_standin: ServiceProcess, identity_db: str, svix_secret: str
):
    await clerk.post("/_standin/users/bulk", json={"count": 3000})
    await clerk.put("/_standin/faults", json={"rate_limit_count": 2, "retry_after_seconds": 1, "latency_seconds": 0.3})
    env = backfill_env(identity_db, clerk_standin, svix_secret)

    process = subprocess.Popen(  # noqa: ASYNC220 (nothing else runs on this loop meanwhile)
        [sys.executable, "-m", "services.identity", "backfill"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # interrupt once the walk is well under way
        if line.startswith("backfill: seen 1000"):
            break
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    partial = len(await rows(identity_db))
    assert 0 < partial < 3000

    await clerk.delete("/_standin/faults")
    report = run_backfill(env)

    assert report["created"] == 3000 - partial
    await assert_table_equals_clerk(identity_db, clerk_standin)
    stats = (await clerk.get("/_standin/stats")).json()
    assert stats["statuses"].get("429", 0) >= 2  # the rate limit was met and waited out
