"""PostgreSQL stopped in the middle of a retention run: the run stops with the outage, nothing is left half-erased
(each interview is either whole, or gone with its transcript and report and tombstoned), and the next run finishes."""

import asyncio
import contextlib
from pathlib import Path

from deploy.dev.stack import embedded_postgres, migrate
from libs.common.db import Database, DatabaseUnavailable
from services.sessions.rights import retention
from tests.support.rows import rows
from tests.support.waiting import eventually

INTERVIEWS = 20_000  # a run of seconds: the outage lands in its middle


async def seed(url: str) -> None:
    await rows(url, "INSERT INTO organization_settings (org_id, retention_days) VALUES ('org_restart', 1)")
    await rows(
        url,
        """WITH made AS (
               INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, status,
                                       token_expires_at, ended_at, org_id)
               SELECT gen_random_uuid(), gen_random_uuid(), 'user_r' || n, 'interview-' || gen_random_uuid(),
                      'user_r' || n, 'ended', now() - interval '3 days', now() - interval '3 days', 'org_restart'
               FROM generate_series(1, $1) AS n RETURNING id),
           said AS (
               INSERT INTO transcript_segments (interview, seq, speaker, text, started_at_ms, ended_at_ms)
               SELECT id, 0, 'candidate', 'words', 0, 1 FROM made RETURNING interview)
           INSERT INTO interview_reports (interview, version, summary, data)
           SELECT interview, 1, 'ok', '{}' FROM said""",
        INTERVIEWS,
    )


async def half_erased(url: str) -> list[dict[str, object]]:
    """Interviews erased in part: tombstoned but still there, or gone with their transcript or report left."""
    return await rows(
        url,
        """SELECT t.id FROM interview_tombstones t JOIN interviews i ON i.id = t.id
           UNION ALL
           SELECT s.interview FROM transcript_segments s
           WHERE NOT EXISTS (SELECT 1 FROM interviews i WHERE i.id = s.interview)
           UNION ALL
           SELECT r.interview FROM interview_reports r
           WHERE NOT EXISTS (SELECT 1 FROM interviews i WHERE i.id = r.interview)""",
    )


async def test_a_retention_run_cut_by_a_postgres_restart_leaves_nothing_half_erased(tmp_path: Path):
    with embedded_postgres(tmp_path / "pgdata", keep_data=False) as server:
        server.execute("CREATE DATABASE retention")
        url = server.url_for("retention")
        migrate("sessions", url)
        await seed(url)
        database = Database(url, max_size=2)
        await database.open()
        try:
            run = asyncio.create_task(retention.erase_past_retention(database, None))

            async def some_erased() -> bool:
                with contextlib.suppress(OSError):
                    return bool(await rows(url, "SELECT 1 FROM interview_tombstones LIMIT 1"))
                return False

            assert await eventually(some_erased, within=30)
            await asyncio.to_thread(server.stop)
            try:
                await run
                cut = False
            except DatabaseUnavailable:
                cut = True
            await asyncio.to_thread(server.start)
            left_between = len(await rows(url, "SELECT id FROM interviews"))
            broken = await half_erased(url)
            await retention.erase_past_retention(database, None)
        finally:
            await database.close()
        after = await rows(
            url, "SELECT (SELECT count(*) FROM interviews) AS kept, (SELECT count(*) FROM interview_tombstones) AS gone"
        )

    assert cut  # the run stopped with the outage, part-way
    assert 0 < left_between < INTERVIEWS
    assert broken == []
    assert (after[0]["kept"], after[0]["gone"]) == (0, INTERVIEWS)
