"""The numbers of consent, recordings and the candidate's rights, measured on the bench's running stack:

- a first redemption with consent against the previous release's (the same database function without it, kept for
  replicas of that release): calls per second of each, in alternating rounds;
- queued deletions of recordings after a storage outage (`DELETIONS`), worked off by the sessions replicas' own
  workers against the storage stand-in: their rate, and the common start's p99 meanwhile against its p99 before;
- a retention run erasing 50,000 interviews: its rate, and the common start's p99 meanwhile;
- the export of a candidate with 100 interviews of 1,000 transcript segments: its time, and the sessions worker's
  memory growth (streamed, it should stay within 32 MiB)."""

import asyncio
import hashlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.run import Bench, _tree, wrk  # run.main imports this module when it gets here
from deploy.dev.stack import RECORDINGS_BUCKET
from libs.common.db import Database
from services.sessions.recordings import store as recording_store
from services.sessions.rights.retention import erase_past_retention
from tests.support.storage import ObjectStore

REDEMPTIONS_A_ROUND = 300
PAIRS = 8  # rounds of each variant, taking turns: the ratio is the median of each pair's
DELETIONS = 300  # moto lists a versioned bucket by scanning all of it: its rate, not ours, bounds a larger run
RETAINED = 50_000
EXPORTED_INTERVIEWS, SEGMENTS_EACH = 100, 1_000


async def _redemption_rates(url: str) -> dict[str, float]:
    """Calls per second of `redeem_invite`'s first use, with consent (this release) and without (the previous), and
    the median over pairs of rounds of how much longer a call with consent takes."""
    conn = await asyncpg.connect(url)
    try:
        org = f"org_bench{uuid.uuid4().hex[:8]}"
        template = uuid.uuid4()
        await conn.execute("INSERT INTO interview_templates (id, org_id) VALUES ($1, $2)", template, org)
        await conn.execute(
            """INSERT INTO template_versions (template, version, title, instructions, questions)
               VALUES ($1, 1, 'bench', '', '{}')""",
            template,
        )
        calls: dict[str, list[float]] = {"with consent": [], "previous release": []}
        for number in range(2 * PAIRS):
            for variant in list(calls) if number % 2 == 0 else list(reversed(calls)):
                codes = [hashlib.sha256(uuid.uuid4().bytes).digest() for _ in range(REDEMPTIONS_A_ROUND)]
                await conn.executemany(
                    """INSERT INTO invites (id, org_id, template, code_hash, expires_at)
                       VALUES ($1, $2, $3, $4, now() + interval '1 day')""",
                    [(uuid.uuid4(), org, template, code) for code in codes],
                )
                started = time.perf_counter()
                for code in codes:
                    interview = uuid.uuid4()
                    args = [
                        code,
                        interview,
                        f"user_bench{interview.hex[:20]}",
                        f"interview-{interview}",
                        None,
                        3,
                        uuid.uuid4(),
                        "Bench",
                        None,
                        True,
                        None,
                    ]
                    if variant == "with consent":
                        await conn.fetchrow(
                            "SELECT * FROM redeem_invite($1, $2, $3, $4, now() + interval '15 minutes', $5, $6, $7,"
                            " $8, $9, $10, $11, $12, $13)",
                            *[a for i, a in enumerate(args) if i != 4],
                            1,
                            True,
                            False,
                        )
                    else:
                        await conn.fetchrow(
                            "SELECT * FROM redeem_invite($1, $2, $3, $4, now() + interval '15 minutes', $5, $6, $7,"
                            " $8, $9, $10)",
                            *[a for i, a in enumerate(args) if i != 4],
                        )
                calls[variant].append(REDEMPTIONS_A_ROUND / (time.perf_counter() - started))
        ratios = sorted(old / new for new, old in zip(calls["with consent"], calls["previous release"], strict=True))
        rates = {variant: sum(rates) / len(rates) for variant, rates in calls.items()}
        return {**rates, "median_ratio": ratios[len(ratios) // 2]}
    finally:
        await conn.close()


def _while_measuring(stack: Bench, script: Path, seconds: int, work: Any) -> tuple[dict[str, Any], float]:
    """The common start under `wrk` while `work()` runs in this thread; wrk's result and `work`'s seconds."""
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(wrk(stack.urls["sessions"], script, seconds)))
    runner.start()
    started = time.perf_counter()
    work()
    took = time.perf_counter() - started
    runner.join()
    return result, took


def _queue_deletions(stack: Bench, url: str) -> None:
    """DELETIONS recordings in the bucket (two versions each under their prefix), erased in one transaction: their
    deletions queued as an outage leaves them, all due at once."""
    store = ObjectStore(stack.stack.storage.url)
    interviews = [uuid.uuid4() for _ in range(DELETIONS)]

    def put(interview: uuid.UUID) -> None:
        store.put(RECORDINGS_BUCKET, f"{recording_store.prefix_of(interview)}a.ogg", b"OggS bench")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, interviews))

    async def queue() -> None:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                await conn.executemany(
                    """INSERT INTO recordings (id, interview_id, room_name, object_key, status)
                       VALUES ($1, $2, 'bench', 'bench', 'complete')""",
                    [(uuid.uuid4(), interview) for interview in interviews],
                )
                await recording_store.erase_recordings(conn, interviews, "bench")
        finally:
            await conn.close()

    asyncio.run(queue())


def _pending(url: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM storage_deletions WHERE deleted_at IS NULL"))
        finally:
            await conn.close()

    return asyncio.run(count())


def _seed_retained(url: str) -> None:
    """50,000 interviews of one organization, ended two days ago; it keeps them a day."""

    async def seed() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """INSERT INTO organization_settings (org_id, retention_days) VALUES ('org_benchretention', 1)
                   ON CONFLICT (org_id) DO UPDATE SET retention_days = 1"""
            )
            await conn.execute(
                """INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, status,
                                           token_expires_at, ended_at, org_id)
                   SELECT gen_random_uuid(), gen_random_uuid(), 'user_benchretention' || n,
                          'interview-' || gen_random_uuid(), 'user_benchretention' || n, 'ended',
                          now() - interval '2 days', now() - interval '2 days', 'org_benchretention'
                   FROM generate_series(1, $1) AS n""",
                RETAINED,
            )
        finally:
            await conn.close()

    asyncio.run(seed())


def _seed_history(url: str, clerk_id: str) -> None:
    async def seed() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                """WITH made AS (
                       INSERT INTO interviews (id, user_id, clerk_id, room_name, participant_identity, status,
                                               token_expires_at, ended_at)
                       SELECT gen_random_uuid(), gen_random_uuid(), $1, 'interview-' || gen_random_uuid(), $1,
                              'ended', now(), now()
                       FROM generate_series(1, $2) RETURNING id)
                   INSERT INTO transcript_segments (interview, seq, speaker, text, started_at_ms, ended_at_ms)
                   SELECT made.id, s, 'candidate', repeat('an answer of some length ', 8), s * 1000, s * 1000 + 900
                   FROM made, generate_series(0, $3 - 1) AS s""",
                clerk_id,
                EXPORTED_INTERVIEWS,
                SEGMENTS_EACH,
            )
        finally:
            await conn.close()

    asyncio.run(seed())


def measure(stack: Bench, start_script: Path, seconds: int, session: Any) -> dict[str, Any]:
    """Every number of the module docstring, printed as it is measured."""
    url = stack.postgres.url_for("sessions")
    found: dict[str, Any] = {}

    rates = asyncio.run(_redemption_rates(url))
    found["redemption"] = rates
    ratio = rates["median_ratio"]
    print(
        f"  redemption, first use: with consent {rates['with consent']:.0f}/s, previous release "
        f"{rates['previous release']:.0f}/s: consent costs {100 * (ratio - 1):+.1f}% (median of {PAIRS} pairs) "
        f"(target at most +10%: {'PASS' if ratio <= 1.10 else 'MISS'})",
        flush=True,
    )

    calm = wrk(stack.urls["sessions"], start_script, seconds)
    _queue_deletions(stack, url)

    def drain() -> None:
        while _pending(url):
            time.sleep(0.2)

    busy, took = _while_measuring(stack, start_script, seconds, drain)
    found["deletions"] = {
        "objects": DELETIONS,
        "seconds": took,
        "p99_calm_ms": calm["p99_ms"],
        "p99_during_ms": busy["p99_ms"],
    }
    print(
        f"  {DELETIONS:,} queued deletions after an outage: {DELETIONS / took:.0f}/s ({took:.1f} s); the common "
        f"start's p99 {calm['p99_ms']:.1f} ms before, {busy['p99_ms']:.1f} ms meanwhile (target at most 1.5x: "
        f"{'PASS' if busy['p99_ms'] <= 1.5 * calm['p99_ms'] else 'MISS'})",
        flush=True,
    )

    _seed_retained(url)

    def retain() -> None:
        async def run() -> None:
            database = Database(url, max_size=2)
            await database.open()
            try:
                await erase_past_retention(database, None)
            finally:
                await database.close()

        asyncio.run(run())

    calm = wrk(stack.urls["sessions"], start_script, seconds)
    busy, took = _while_measuring(stack, start_script, seconds, retain)
    found["retention"] = {
        "interviews": RETAINED,
        "seconds": took,
        "p99_calm_ms": calm["p99_ms"],
        "p99_during_ms": busy["p99_ms"],
    }
    print(
        f"  a retention run erasing 50,000 interviews: {RETAINED / took:.0f}/s ({took:.1f} s); the common start's "
        f"p99 {calm['p99_ms']:.1f} ms before, {busy['p99_ms']:.1f} ms meanwhile (target at most 1.5x: "
        f"{'PASS' if busy['p99_ms'] <= 1.5 * calm['p99_ms'] else 'MISS'})",
        flush=True,
    )

    clerk_id = "user_benchexport0000000000000"
    _seed_history(url, clerk_id)
    worker = _tree(stack.stack.sessions.pid)[-1]
    before = worker.memory_info().rss
    peak = before
    started = time.perf_counter()
    size = 0
    with httpx.stream(
        "GET", f"{stack.urls['sessions']}/api/me/export", headers=session(clerk_id), timeout=600
    ) as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
            peak = max(peak, worker.memory_info().rss)
    took = time.perf_counter() - started
    growth = (peak - before) / 2**20
    found["export"] = {"bytes": size, "seconds": took, "rss_growth_mib": growth}
    print(
        f"  export of 100 interviews x 1,000 segments: {size / 2**20:.1f} MiB in {took:.1f} s; the sessions worker "
        f"grew {growth:.1f} MiB at its peak (target at most 32 MiB: {'PASS' if growth <= 32 else 'MISS'})",
        flush=True,
    )
    return found
