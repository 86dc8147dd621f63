"""Delivery records are pruned after WEBHOOK_EVENTS_RETENTION_DAYS, in batches, by the identity process; a
redelivery whose record is gone still changes nothing."""

import asyncpg
import httpx
import msgspec
import pytest

from deploy.dev.standins.clerk.payloads import deleted_event, make_user, update_user, user_event
from libs.common.db import Database
from services.identity import retention
from services.identity.app import create_app
from services.identity.retention import prune_delivery_records
from services.identity.settings import IdentitySettings
from tests.support.asgi import serve_in_process
from tests.support.clerk import deliver
from tests.support.metrics import sample
from tests.support.rows import rows, user_row
from tests.support.waiting import eventually

OLD_RECORDS = """
INSERT INTO webhook_events (svix_id, event_type, clerk_id, received_at, outcome)
SELECT 'msg_old_' || g, 'user.updated', NULL, now() - interval '31 days' - g * interval '1 second', 'applied'
FROM generate_series(1, $1) AS g
"""


async def execute(database_url: str, sql: str, *args: object) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def delivery_ids(database_url: str) -> set[str]:
    return {row["svix_id"] for row in await rows(database_url, "SELECT svix_id FROM webhook_events")}


async def test_records_past_retention_are_pruned_in_batches_and_recent_ones_kept(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    await execute(identity_db, OLD_RECORDS, 2500)
    await deliver(identity, svix_secret, user_event("user.created", make_user()), svix_id="msg_recent")
    database = Database(identity_db, max_size=2)
    await database.open()
    try:
        pruned = await prune_delivery_records(database, retention_days=30, batch=1000)
    finally:
        await database.close()

    assert pruned == 2500
    assert await delivery_ids(identity_db) == {"msg_recent"}


async def test_the_identity_process_prunes_old_records_by_itself(identity_db: str, identity_settings: IdentitySettings):
    await execute(identity_db, OLD_RECORDS, 10)
    settings = msgspec.structs.replace(identity_settings, webhook_events_retention_days=30)

    async def all_pruned() -> bool:
        return await delivery_ids(identity_db) == set()

    async with serve_in_process(create_app(settings), "http://identity"):
        assert await eventually(all_pruned)


async def test_a_redelivery_whose_record_was_pruned_changes_nothing(
    identity: httpx.AsyncClient, identity_db: str, svix_secret: str
):
    first = make_user(email="first@example.com")
    newer = update_user(first, email="newer@example.com")
    gone = make_user(email="gone@example.com")
    events = {
        "msg_first": user_event("user.created", first),
        "msg_newer": user_event("user.updated", newer),
        "msg_gone_created": user_event("user.created", gone),
        "msg_gone_deleted": deleted_event(gone["id"]),
    }
    for svix_id, event in events.items():
        assert (await deliver(identity, svix_secret, event, svix_id=svix_id)).json()["outcome"] == "applied"
    await execute(identity_db, "UPDATE webhook_events SET received_at = now() - interval '31 days'")
    database = Database(identity_db, max_size=2)
    await database.open()
    try:
        await prune_delivery_records(database, retention_days=30)
    finally:
        await database.close()
    assert await delivery_ids(identity_db) == set()

    late_first = await deliver(identity, svix_secret, events["msg_first"], svix_id="msg_first")
    late_created = await deliver(identity, svix_secret, events["msg_gone_created"], svix_id="msg_gone_created")

    assert (late_first.json()["outcome"], late_created.json()["outcome"]) == ("stale", "stale")
    current, tombstone = await user_row(identity_db, first["id"]), await user_row(identity_db, gone["id"])
    assert current is not None
    assert tombstone is not None
    assert current["email"] == "newer@example.com"
    assert (tombstone["deleted_at"] is not None, tombstone["email"]) == (True, None)


FAILING_DELETES = """
CREATE FUNCTION refuse_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'deletes refused for this test'; END $$;
CREATE TRIGGER refuse_deletes BEFORE DELETE ON webhook_events FOR EACH ROW EXECUTE FUNCTION refuse_deletes();
"""


async def test_pruning_survives_an_unexpected_error_logs_counts_it_and_runs_again(
    identity_db: str,
    identity_settings: IdentitySettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """An error that is no outage (here: the database refusing the delete, as a read-only failover would) once
    ended the pruning loop for the life of the process; now the round is logged with its traceback, counted,
    and the task runs again after a back-off."""
    monkeypatch.setattr(retention, "PRUNE_EVERY_SECONDS", 0.2)
    await execute(identity_db, OLD_RECORDS, 10)
    await execute(identity_db, FAILING_DELETES)
    failures = "identity_background_failures_total"

    async with serve_in_process(create_app(identity_settings), "http://identity") as identity:
        before = sample((await identity.get("/metrics")).text, failures, task="webhook_retention")

        async def failed_twice() -> bool:
            metrics = (await identity.get("/metrics")).text
            return sample(metrics, failures, task="webhook_retention") >= before + 2

        assert await eventually(failed_twice)
        await execute(identity_db, "DROP TRIGGER refuse_deletes ON webhook_events")

        async def all_pruned() -> bool:
            return await delivery_ids(identity_db) == set()

        assert await eventually(all_pruned)
        succeeded = sample(
            (await identity.get("/metrics")).text,
            "identity_background_last_success_timestamp_seconds",
            task="webhook_retention",
        )

    assert succeeded > 0
    logged = [record for record in caplog.records if "webhook_retention" in record.getMessage()]
    assert logged
    assert all(record.exc_info is not None for record in logged)
