"""`python3 dev.py bench [--quick]`: load each hot path of the running system with wrk, measure the same SQL
with pgbench (the ceiling PostgreSQL alone sets on this machine), and report both side by side.

Everything runs here, on loopback: a throwaway embedded PostgreSQL, the Clerk stand-in, identity, sessions,
wrk and pgbench. Results go to `bench-results/` (git-ignored) as JSON and Markdown.
"""

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil

from bench.floors import FLOOR_TABLE
from bench.results import (
    ASKED,
    BARE,
    ENSURE,
    FLAT_BIG,
    FLAT_SMALL,
    FLOOR_CALL,
    FLOOR_READ,
    FLOOR_WRITE,
    KNOWN,
    NEW,
    NEW_CLAIMS,
    WEBHOOK,
    write,
)
from deploy.dev.secrets import DevSecrets, load_or_create_secrets
from deploy.dev.stack import SERVICES, EmbeddedPostgres, ServiceProcess, Stack, embedded_postgres
from deploy.dev.standins.clerk.payloads import make_user, user_event
from deploy.dev.standins.clerk.session_tokens import mint_session_token, signing_key
from deploy.dev.standins.clerk.signing import sign_webhook
from deploy.dev.tools import ToolMissing, debian_tool
from services.identity.store import USER_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
LUA_REPORT = Path(__file__).resolve().parent / "report.lua"
WRK_THREADS, WRK_CONNECTIONS = 2, 16
FIRST_UNSEEN_USER = 2_000_001  # first starts: users far from the 1k that start again and again
PAIRED_ROUNDS = 2  # first starts and new users' starts, taking turns
CLERK_LATENCY_SECONDS = 0.15  # Clerk's Backend API across the internet (100 to 300 ms in production)
FLAT_ROUNDS, FLAT_ROUND_SECONDS, FLAT_ROUND_USERS = 4, 3, 5_000  # even: each side goes first as often
PGBENCH_CLIENTS = 8

SEED_USERS_SQL = """
INSERT INTO users (clerk_id, email, first_name, created_via, profile_status, clerk_created_at, clerk_updated_at)
SELECT 'user_bench' || lpad(g::text, 10, '0'), 'bench' || g || '@example.com', 'Bench', 'backfill', 'complete',
       now(), now() - interval '1 day'
FROM generate_series($1::int, $2::int) AS g
"""

# The SQL each path runs, as pgbench scripts (the same statements as services/*/store.py).
FIND_USER = f"""\\set n random(1, :users)
SELECT {USER_COLUMNS} FROM users WHERE clerk_id = 'user_bench' || lpad(:n::text, 10, '0');
"""  # noqa: S608 (the columns come from the code, not from input)
START_INTERVIEW = """\\set n random(1, :users)
SELECT outcome FROM start_interview(gen_random_uuid(), 'user_bench' || lpad(:n::text, 10, '0'), 'interview-' ||
 gen_random_uuid(), NULL, to_timestamp(ceil((extract(epoch FROM now()) + 900) / 30) * 30), 1000000,
 gen_random_uuid(), 'Bench', true, 300, 5);
"""  # the start's one statement, with identity's answer (remembered at most once a minute per user) and the
# token's expiry rounded up to its reuse window as sessions records it (a repeat within the window writes nothing)
CREATE_USER = """SELECT id FROM users WHERE clerk_id = 'user_new' || :client_id || '_' || random(1, 1000000000);
INSERT INTO users AS u (clerk_id, email, phone, username, first_name, last_name, image_url, clerk_created_at,
 clerk_updated_at, created_via, profile_status) VALUES ('user_new' || gen_random_uuid(), 'n@example.com', NULL,
 NULL, 'New', NULL, NULL, now(), now(), 'ensure', 'complete') ON CONFLICT (clerk_id) DO UPDATE SET
 email = EXCLUDED.email WHERE u.clerk_updated_at < EXCLUDED.clerk_updated_at RETURNING id, (xmax = 0);
"""
APPLY_WEBHOOK = """\\set n random(1, :users)
\\set m random(1, 1000000000000)
WITH fresh AS (SELECT NOT EXISTS (SELECT 1 FROM webhook_events WHERE svix_id = 'msg_' || :m || '_' || :client_id)
 AS delivery), written AS (INSERT INTO users AS u (clerk_id, email, phone, username, first_name, last_name,
 image_url, clerk_created_at, clerk_updated_at, created_via, profile_status) SELECT 'user_bench' ||
 lpad(:n::text, 10, '0'), 'b@example.com', NULL, NULL, 'Bench', NULL, NULL, now(), clock_timestamp(), 'webhook',
 'complete' FROM fresh WHERE fresh.delivery ON CONFLICT (clerk_id) DO UPDATE SET email = EXCLUDED.email,
 first_name = EXCLUDED.first_name, clerk_updated_at = EXCLUDED.clerk_updated_at, updated_at = now()
 WHERE u.deleted_at IS NULL AND (u.clerk_updated_at IS NULL OR u.clerk_updated_at < EXCLUDED.clerk_updated_at)
 RETURNING (xmax = 0) AS inserted), recorded AS (INSERT INTO webhook_events (svix_id, event_type, clerk_id,
 event_timestamp, outcome) VALUES ('msg_' || :m || '_' || :client_id, 'user.updated', 'user_bench' ||
 lpad(:n::text, 10, '0'), now(), CASE WHEN EXISTS (SELECT 1 FROM written) THEN 'applied' ELSE 'stale' END)
 ON CONFLICT (svix_id) DO NOTHING RETURNING outcome)
SELECT (SELECT outcome FROM recorded), (SELECT inserted FROM written);
"""


class Bench:
    """The system under test (`deploy.dev.stack`) on a throwaway embedded PostgreSQL, and its databases."""

    def __init__(
        self,
        state: Path,
        postgres: EmbeddedPostgres,
        stack: Stack,
        secrets: DevSecrets,
        environment: dict[str, dict[str, str]],
    ) -> None:
        self.state = state
        self.postgres = postgres
        self.stack = stack
        self.secrets = secrets
        self.environment = environment
        self.urls = {"clerk": stack.clerk_url, "identity": stack.identity.url, "sessions": stack.sessions.url}
        self.pg_host = postgres.admin_url.split("host=")[1]

    def rss(self) -> dict[str, int]:
        """Each service's resident memory now, in bytes: its worker's (the supervisor above it stays small)."""
        return {p.module: _tree(p.pid)[-1].memory_info().rss for p in (self.stack.identity, self.stack.sessions)}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each service, by PostgreSQL (its server and every backend), and by the
        Clerk stand-in (Clerk's servers' share in production, this machine's here)."""
        postmaster = psutil.Process(int((self.state / "pgdata" / "postmaster.pid").read_text().split()[0]))
        assert self.stack.clerk is not None
        processes = {
            "sessions": _tree(self.stack.sessions.pid),
            "identity": _tree(self.stack.identity.pid),
            "postgres": [postmaster, *postmaster.children()],
            "clerk": [psutil.Process(self.stack.clerk.pid)],
        }
        return {name: sum(sum(p.cpu_times()[:2]) for p in group) for name, group in processes.items()}

    def measure(self, url: str, script: Path, seconds: int) -> dict[str, Any]:
        """`wrk` on `url`, and the CPU each process spent per request meanwhile (what sizing needs)."""
        before = self.cpu_seconds()
        result = wrk(url, script, seconds)
        after = self.cpu_seconds()
        result["cpu_ms_per_request"] = {
            name: 1000 * (after[name] - before[name]) / result["requests"] for name in after
        }
        return result

    def count(self, database: str, sql: str) -> int:
        return int(self.postgres.execute(sql, database=database)[0][0])


def _tree(pid: int) -> list[psutil.Process]:
    """A served process (granian's supervisor) and its worker(s) after it."""
    process = psutil.Process(pid)
    return [process, *process.children(recursive=True)]


@contextmanager
def running_bench(state: Path) -> Iterator[Bench]:
    secrets = load_or_create_secrets(state / "secrets.json")
    with embedded_postgres(state / "pgdata", keep_data=False) as postgres:
        databases = {service: postgres.migrated_database(service, service) for service in SERVICES}
        # Each bench user starts dozens of interviews within seconds: far past the open-interviews cap (3).
        sessions = {
            "LIVEKIT_API_SECRET": "bench-livekit-secret-of-at-least-32-bytes",
            "MAX_OPEN_INTERVIEWS_PER_USER": "1000",
        }
        environment = {"sessions": sessions}
        with Stack(secrets, databases, environment=environment, log_dir=state) as stack:
            yield Bench(state, postgres, stack, secrets, environment)


def seed_users(stack: Bench, first: int, last: int, database: str = "identity") -> None:
    for start in range(first, last + 1, 100_000):
        stack.postgres.execute(SEED_USERS_SQL, start, min(last, start + 99_999), database=database)
    stack.postgres.execute("ANALYZE users", database=database)


def settle(stack: Bench, databases: tuple[str, ...]) -> None:
    """Bring `databases` to rest, as they were for the first measurement: vacuumed (else autovacuum works
    through the million seeded rows and the earlier steps' dead tuples during the next measurement) and
    written out (else the checkpoint of the seed's WAL runs during it)."""
    for database in databases:
        stack.postgres.execute("VACUUM ANALYZE", database=database)
    stack.postgres.execute("CHECKPOINT")


def flatness(bench: Bench, session: Callable[[str], dict[str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """First starts (the path that reads identity's users table) against the running identity (1k users, plus
    those the earlier steps added) and against a second identity and sessions on a database of 1M users, in
    rounds taking turns, each side first in as many rounds as the other, so that both see the same machine: on
    a shared machine two measurements minutes apart differ by more than the 10% looked for. Each round's users
    are ones sessions has not seen (on the 1M side, from the far end of the table). A first round, not counted,
    warms both up; then both sessions databases are analysed (the new one's planner statistics would otherwise
    be those of an empty table, its plans scans that slow down as the rounds add rows)."""
    per_side = (FLAT_ROUNDS + 1) * FLAT_ROUND_USERS
    small_first = FIRST_UNSEEN_USER + 100_000  # beyond the users of the earlier first starts
    seed_users(bench, small_first, small_first + per_side - 1)
    databases = {"identity": "identity_1m", "sessions": "sessions_1m"}
    urls = {service: bench.postgres.migrated_database(name, service) for service, name in databases.items()}
    seed_users(bench, 1, 1_000_000, database=databases["identity"])
    settle(bench, (*SERVICES, *databases.values()))
    big_first = 1_000_000 - per_side + 1
    rounds: dict[str, list[dict[str, Any]]] = {FLAT_SMALL: [], FLAT_BIG: []}
    (bench.state / "1m").mkdir()
    with Stack(
        bench.secrets,
        urls,
        clerk_url=bench.stack.clerk_url,
        livekit_url=bench.stack.livekit_url,
        environment=bench.environment,
        log_dir=bench.state / "1m",
    ) as big:
        targets = {FLAT_SMALL: (bench.urls["sessions"], small_first), FLAT_BIG: (big.sessions.url, big_first)}
        for number in range(FLAT_ROUNDS + 1):
            for name in (FLAT_SMALL, FLAT_BIG) if number % 2 == 0 else (FLAT_BIG, FLAT_SMALL):
                url, first = targets[name]
                users = range(first + number * FLAT_ROUND_USERS, first + (number + 1) * FLAT_ROUND_USERS)
                starts = [("/api/livekit/connection-details", session(bench_id(n)), "{}") for n in users]
                script = lua_script(bench.state / f"flat-{number}-{url.rsplit(':', 1)[1]}.lua", starts)
                result = wrk(url, script, FLAT_ROUND_SECONDS)
                if number:
                    rounds[name].append(result)
            if not number:
                for database in ("sessions", databases["sessions"]):
                    bench.postgres.execute("ANALYZE", database=database)
    return _combined(rounds[FLAT_SMALL]), _combined(rounds[FLAT_BIG])


def floors(bench: Bench, users: int, seconds: int) -> dict[str, dict[str, Any]]:
    """The libraries' floors (`bench.floors`) on identity's database: a read and a durable write on one floor
    process, and on a second one a call to the first followed by a read (two processes, as a start and identity)."""
    database_url = bench.stack.identity.environment["DATABASE_URL"]
    bench.postgres.execute(FLOOR_TABLE, database="identity")
    headers = {"Content-Type": "application/json"}
    bodies = [json.dumps({"clerk_id": bench_id(n)}) for n in range(1, users + 1)]
    found: dict[str, dict[str, Any]] = {}
    with (
        ServiceProcess(
            "bench.floors", {"DATABASE_URL": database_url}, bench.state / "floor.log", ready_path="/healthz"
        ) as callee,
        ServiceProcess(
            "bench.floors",
            {"DATABASE_URL": database_url, "FLOOR_PEER_URL": callee.url},
            bench.state / "floor-caller.log",
            ready_path="/healthz",
        ) as caller,
    ):
        for name, url, kind in (
            (FLOOR_READ, callee.url, "read"),
            (FLOOR_WRITE, callee.url, "write"),
            (FLOOR_CALL, caller.url, "call"),
        ):
            path = f"/floor/{kind}"
            script = lua_script(bench.state / f"floor-{kind}.lua", [(path, headers, body) for body in bodies])
            wrk(url, script, max(2, seconds // 2))  # warm-up: pools filled
            found[name] = wrk(url, script, seconds)
    return found


def _combined(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Rounds of one path as one result: the rate over all of them, the median of their percentiles, and (if
    measured) each process's CPU per request over all of them."""
    requests, seconds = sum(r["requests"] for r in rounds), sum(r["seconds"] for r in rounds)
    combined = {
        "rps": requests / seconds,
        "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "requests": requests,
        "seconds": seconds,
        "rounds": rounds,
    }
    if all("cpu_ms_per_request" in r for r in rounds):
        combined["cpu_ms_per_request"] = {
            name: sum(r["cpu_ms_per_request"][name] * r["requests"] for r in rounds) / requests
            for name in rounds[0]["cpu_ms_per_request"]
        }
    return combined


def bench_id(n: int) -> str:
    return f"user_bench{n:010d}"


def lua_script(path: Path, requests: list[tuple[str, dict[str, str], str]]) -> Path:
    def lua_string(text: str) -> str:
        return f"[==[{text}]==]"

    lines = [f"thread_count = {WRK_THREADS}", "requests = {"]
    for url_path, headers, body in requests:
        rendered = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
        lines.append(f"  {{{lua_string(url_path)}, {{{rendered}}}, {lua_string(body)}}},")
    lines += ["}", f"dofile({lua_string(str(LUA_REPORT))})"]
    path.write_text("\n".join(lines))
    return path


def wrk(url: str, script: Path, seconds: int) -> dict[str, Any]:
    run = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            f"-t{WRK_THREADS}",
            f"-c{WRK_CONNECTIONS}",
            f"-d{seconds}s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    if "RESULT " not in run.stdout:
        sys.exit(f"wrk gave no result:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    result = json.loads(run.stdout.split("RESULT ", 1)[1].splitlines()[0])
    duration = result["duration_us"] / 1e6
    return {
        "rps": result["requests"] / duration,
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": result["errors_status"] + result["errors_socket"],
        "requests": result["requests"],
        "seconds": duration,
    }


def pgbench(stack: Bench, database: str, script: str, users: int, seconds: int) -> float:
    path = stack.state / f"pgbench-{abs(hash(script))}.sql"
    path.write_text(script)
    binary = Path(sys.modules["embedded_postgres"].__file__).parent / "pginstall" / "bin" / "pgbench"  # type: ignore[arg-type]
    output = subprocess.run(
        [
            str(binary),
            "-n",
            "-M",
            "prepared",
            "-c",
            str(PGBENCH_CLIENTS),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-D",
            f"users={users}",
            "-f",
            str(path),
            "-h",
            stack.pg_host,
            "-U",
            "postgres",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    match = re.search(r"tps = ([\d.]+)", output)
    assert match, output
    return float(match.group(1))


def serial(*rates: float) -> float:
    """The ceiling of a request that runs these statements one after another."""
    return 1 / sum(1 / rate for rate in rates)


def main() -> None:  # noqa: PLR0915 (one linear script: set up, measure each path, report)
    parser = argparse.ArgumentParser(prog="python3 dev.py bench")
    parser.add_argument("--quick", action="store_true", help="short runs, and skip the 1M-user flatness check")
    args = parser.parse_args()
    try:
        debian_tool("wrk", "wrk")
    except ToolMissing as missing:
        sys.exit(str(missing))
    seconds = 3 if args.quick else 10
    users = 1_000
    state = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"starting the stack in {state}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    try:
        with (
            running_bench(state) as stack,
            ServiceProcess("bench.bare", {}, state / "bare.log", ready_path="/healthz") as bare,
        ):
            secrets = stack.secrets
            seed_users(stack, 1, users)

            # The yardstick is measured before the paths, midway and after them: every ratio is to its mean, so
            # that the machine's pace in one moment does not set the yardstick for the whole run.
            bare_script = lua_script(
                state / "bare.lua", [("/bare", {"Content-Type": "application/json"}, '{"name": "bench"}')]
            )
            yardstick: list[dict[str, Any]] = []
            results[BARE] = results[KNOWN] = {}  # the table's first rows, filled in after their last measurement
            print("the yardstick: a bare Litestar route on the same server (1 of 3)", flush=True)
            yardstick.append(wrk(bare.url, bare_script, seconds))

            key = signing_key(secrets.jwt_private_pem)

            def session(clerk_id: str, claims: dict[str, Any] | None = None) -> dict[str, str]:
                token = mint_session_token(key, subject=clerk_id, lifetime_seconds=3600, extra_claims=claims)
                return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

            def session_with_profile(clerk_id: str) -> dict[str, str]:
                """A customized session token's (Clerk Dashboard → Sessions): the user's email and name."""
                profile = {"email": f"{clerk_id.lower()}@example.com", "first_name": "New", "last_name": "Candidate"}
                return session(clerk_id, profile)

            existing = [("/api/livekit/connection-details", session(bench_id(n)), "{}") for n in range(1, users + 1)]
            details_script = lua_script(state / "details.lua", existing)

            wrk(stack.urls["sessions"], details_script, 2)  # warm-up: pools filled, code paths loaded
            print("connection-details, existing users (1 of 2)", flush=True)
            known = [stack.measure(stack.urls["sessions"], details_script, seconds)]
            start_ceiling = pgbench(stack, "sessions", START_INTERVIEW, users, 5)

            # The users above, again and again, start on identity's answer of their first start (within
            # IDENTITY_RECHECK_SECONDS); users identity knows whom sessions has not seen yet are asked about; new
            # users (in Clerk only) are made from the profile their session token carries, or fetched from Clerk,
            # which answers in 150 ms as across the internet. They are compared with each other, so they are
            # measured in rounds taking turns, each first as often: a slow stretch of the machine falls on all.
            print("connection-details: first starts (identity asked), new users (profile in the token; Clerk asked)")
            round_users = 3_000 if args.quick else 8_000  # more than a round starts: no user starts twice
            unseen = range(FIRST_UNSEEN_USER, FIRST_UNSEEN_USER + PAIRED_ROUNDS * round_users)
            seed_users(stack, unseen.start, unseen.stop - 1)
            httpx.post(
                f"{stack.urls['clerk']}/_standin/users/bulk", json={"count": 2 * len(unseen)}, timeout=60
            ).raise_for_status()
            new_ids: list[str] = []
            with httpx.Client(
                base_url=stack.urls["clerk"], headers={"Authorization": f"Bearer {secrets.clerk_secret_key}"}
            ) as clerk:
                while page := clerk.get("/v1/users", params={"limit": 500, "offset": len(new_ids)}).json():
                    new_ids += [user["id"] for user in page]
                clerk.put("/_standin/faults", json={"latency_seconds": CLERK_LATENCY_SECONDS}).raise_for_status()
            kinds = {
                ASKED: ([bench_id(n) for n in unseen], session),
                NEW_CLAIMS: (new_ids[: len(unseen)], session_with_profile),
                NEW: (new_ids[len(unseen) :], session),
            }
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in kinds}
            for number in range(PAIRED_ROUNDS):
                order = list(kinds) if number % 2 == 0 else list(reversed(kinds))
                for kind, name in enumerate(order):
                    clerk_ids, headers = kinds[name]
                    starts = [
                        ("/api/livekit/connection-details", headers(clerk_id), "{}")
                        for clerk_id in clerk_ids[number * round_users : (number + 1) * round_users]
                    ]
                    script = lua_script(state / f"first-starts-{number}-{kind}.lua", starts)
                    rounds[name].append(stack.measure(stack.urls["sessions"], script, max(2, seconds // 2)))
            httpx.delete(f"{stack.urls['clerk']}/_standin/faults").raise_for_status()
            # Memory is compared from here, every kind of start having filled what it fills (the session tokens
            # remembered, bounded): growth through the phases below, the common start again among them, is a leak.
            rss_warm = stack.rss()
            for name in kinds:
                results[name] = _combined(rounds[name])
            results[ASKED]["ceiling"] = serial(pgbench(stack, "identity", FIND_USER, users, 5), start_ceiling)
            results[NEW_CLAIMS]["ceiling"] = results[NEW]["ceiling"] = serial(
                pgbench(stack, "identity", CREATE_USER, users, 5),
                pgbench(stack, "sessions", START_INTERVIEW, users, 5),
            )
            for name, via in ((NEW_CLAIMS, "claims"), (NEW, "ensure")):
                created = stack.postgres.execute(
                    "SELECT count(*) FROM users WHERE created_via = $1", via, database="identity"
                )
                results[name]["users_created"] = created[0][0]

            print("the yardstick (2 of 3)", flush=True)
            yardstick.append(wrk(bare.url, bare_script, seconds))

            print("ensure-user, existing users", flush=True)
            internal = {"Authorization": f"Bearer {secrets.internal_token}", "Content-Type": "application/json"}
            ensure = [
                ("/internal/users/ensure", internal, json.dumps({"clerk_id": bench_id(n)})) for n in range(1, users + 1)
            ]
            results[ENSURE] = stack.measure(stack.urls["identity"], lua_script(state / "ensure.lua", ensure), seconds)
            results[ENSURE]["ceiling"] = pgbench(stack, "identity", FIND_USER, users, 5)

            print("Clerk webhook ingestion", flush=True)
            stamp = int(time.time() * 1000)
            events = []
            hook_seconds = min(seconds, 5)
            # Enough distinct events for 6,000/s: once wrk wraps around the list, the rest are duplicates (not
            # counted), which would cap the measured rate below what identity sustains.
            for index in range(6_000 * hook_seconds):
                n = index % users + 1
                user = make_user(user_id=bench_id(n), email=f"bench{n}@example.com", updated_at=stamp + index)
                body = msgspec.json.encode(user_event("user.updated", user))
                headers = {**sign_webhook(secrets.svix_secret, body), "Content-Type": "application/json"}
                events.append(("/webhooks/clerk", headers, body.decode()))
            before = stack.count("identity", "SELECT count(*) FROM webhook_events")
            hook = stack.measure(stack.urls["identity"], lua_script(state / "webhooks.lua", events), hook_seconds)
            applied = stack.count("identity", "SELECT count(*) FROM webhook_events") - before
            hook["rps"] = applied / hook["seconds"]  # only first deliveries count (a wrapped list repeats svix-ids)
            hook["ceiling"] = pgbench(stack, "identity", APPLY_WEBHOOK, users, 5)
            results[WEBHOOK] = hook
            print("the libraries' floors: a read, a durable write, a call then a read (nothing of ours)", flush=True)
            floor_results = floors(stack, users, seconds)
            print("connection-details, existing users (2 of 2)", flush=True)
            known.append(stack.measure(stack.urls["sessions"], details_script, seconds))
            results[KNOWN] = {**_combined(known), "ceiling": start_ceiling}
            memory = {name: (rss_warm[name], rss) for name, rss in stack.rss().items()}
            print("the yardstick (3 of 3)", flush=True)
            yardstick.append(wrk(bare.url, bare_script, seconds))
            results[BARE] = _combined(yardstick)
            results.update(floor_results)

            print("consent, recordings and the candidate's rights", flush=True)
            from bench import rights  # noqa: PLC0415 (it builds on this module's Bench and wrk)

            rights_results = rights.measure(stack, details_script, seconds, session)
            (Path("bench-results") / "rights.json").parent.mkdir(exist_ok=True)
            (Path("bench-results") / "rights.json").write_text(json.dumps(rights_results, indent=2))

            if not args.quick:
                print("1k against 1M users: seeding a second identity, then rounds taking turns", flush=True)
                results[FLAT_SMALL], results[FLAT_BIG] = flatness(stack, session)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    write(results, memory, quick=args.quick)


if __name__ == "__main__":
    main()
