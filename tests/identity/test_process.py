"""The identity service as a real process: its start-up checks, its JSON logs and a clean stop."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from deploy.dev.stack import ROOT, ServiceProcess
from deploy.dev.standins.clerk.payloads import make_user, user_event
from tests.support.clerk import deliver
from tests.support.credentials import CLERK_SECRET_KEY, INTERNAL_TOKEN, identity_env
from tests.support.waiting import eventually


def serve_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`serve` with `env`, expected to refuse to start (so it exits by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "services.identity", "serve", "--port", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_and_malformed_settings_stop_start_up_naming_each_variable():
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CLERK_", "INTERNAL_"))}
    env |= {"DATABASE_URL": "postgresql://nowhere/db", "CLERK_SECRET_KEY": "not-a-key-but-secret-value"}

    result = serve_with(env)

    assert result.returncode == 2
    assert "INTERNAL_API_TOKENS is not set" in result.stderr
    assert "CLERK_WEBHOOK_SIGNING_SECRET is not set" in result.stderr
    assert "CLERK_SECRET_KEY is malformed" in result.stderr
    assert "not-a-key-but-secret-value" not in result.stderr


def test_migrate_twice_is_harmless(postgres, identity_template: str):
    url = postgres.url_for(identity_template)

    result = subprocess.run(
        [sys.executable, "-m", "services.identity", "migrate"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "No migrations need to be run" in result.stdout


async def test_served_process_logs_json_with_request_ids_and_no_secrets_then_stops_on_sigterm(
    identity_db: str,
    clerk_standin: ServiceProcess,
    clerk: httpx.AsyncClient,
    svix_secret: str,
    tmp_path: Path,
):
    env = identity_env(identity_db, clerk_standin.url, svix_secret)
    service = ServiceProcess("services.identity", env, tmp_path / "identity.log", ready_path="/healthz").start()
    try:
        created = await clerk.post("/_standin/users", json={"email": "secret.person@example.com", "deliver": False})
        clerk_id = created.json()["user"]["id"]
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
            ensured = await client.post(
                "/internal/users/ensure",
                json={"clerk_id": clerk_id},
                headers={"Authorization": f"Bearer {INTERNAL_TOKEN}", "X-Request-ID": "trace-abc-123"},
            )
            hooked = make_user(email="hook.person@example.com")
            webhook = await deliver(client, svix_secret, user_event("user.created", hooked))
    finally:
        exit_code = service.stop()

    assert ensured.status_code == 200
    assert ensured.headers["x-request-id"] == "trace-abc-123"
    assert webhook.status_code == 200
    assert exit_code in (0, -signal.SIGTERM)  # the server drained, then exited
    assert "Granian shutdown completed" in service.logs()
    lines = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "access"]
    assert {
        "method": "POST",
        "route": "/internal/users/ensure",
        "status": 200,
        "request_id": "trace-abc-123",
    }.items() <= (next(line for line in access if line.get("request_id") == "trace-abc-123").items())
    hook_line = next(line for line in access if line["route"] == "/webhooks/clerk")
    assert {"status": 200, "event_type": "user.created", "outcome": "applied", "clerk_id": hooked["id"]}.items() <= (
        hook_line.items()
    )
    assert hook_line["svix_id"].startswith("msg_")  # what the handler did, on the request's one line
    text = service.logs()
    for secret in (
        INTERNAL_TOKEN,
        CLERK_SECRET_KEY,
        svix_secret,
        "secret.person@example.com",
        "hook.person@example.com",
    ):
        assert secret not in text


def test_web_concurrency_runs_that_many_workers_on_one_port_and_sigterm_stops_them_all(
    identity_db: str, clerk_standin: ServiceProcess, svix_secret: str, tmp_path: Path
):
    env = identity_env(identity_db, clerk_standin.url, svix_secret) | {"WEB_CONCURRENCY": "2"}
    service = ServiceProcess("services.identity", env, tmp_path / "identity.log", ready_path="/readyz").start()
    try:
        children = psutil.Process(service.pid).children(recursive=True)
        workers = [child for child in children if child.cmdline() == psutil.Process(service.pid).cmdline()]
        answers = {httpx.get(f"{service.url}/internal/users/user_1", timeout=5).status_code for _ in range(20)}
    finally:
        service.stop()

    assert answers == {401}  # no token
    assert len(workers) == 2
    logged = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
    access = [line for line in logged if line.get("route") == "/internal/users/{clerk_id}"]
    assert len(access) >= 20  # the workers' access log, as JSON
    # Workers are joined before the supervisor exits; multiprocessing's resource tracker leaves right after.
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []


def test_a_malformed_worker_count_stops_start_up_naming_it(
    identity_db: str, clerk_standin: ServiceProcess, svix_secret: str
):
    env = os.environ | identity_env(identity_db, clerk_standin.url, svix_secret) | {"WEB_CONCURRENCY": "many"}

    result = serve_with(env)

    assert result.returncode == 2
    assert "WEB_CONCURRENCY is malformed" in result.stderr


def test_every_request_has_one_access_line_and_a_count_but_probes_and_empty_polls_stay_below_info(
    identity_db: str, clerk_standin: ServiceProcess, svix_secret: str, tmp_path: Path
):
    env = identity_env(identity_db, clerk_standin.url, svix_secret)
    service = ServiceProcess("services.identity", env, tmp_path / "identity.log", ready_path="/readyz").start()
    internal = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    try:
        with httpx.Client(base_url=service.url, timeout=5) as http:
            unmatched = http.get("/nope/user_secret123")
            wrong_method = http.delete("/healthz")
            too_large = http.post("/webhooks/clerk", content=b"x" * (2 * 1024 * 1024))
            probes = [http.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")]
            empty_poll = http.get("/internal/users/changes", params={"after": "", "limit": 10}, headers=internal)
            while empty_poll.json()["next_cursor"] not in (None, ""):  # a fresh database has no changes: at its end
                empty_poll = http.get(
                    "/internal/users/changes", params={"after": empty_poll.json()["next_cursor"]}, headers=internal
                )
            metrics = http.get("/metrics").text
    finally:
        service.stop()

    assert (unmatched.status_code, wrong_method.status_code, too_large.status_code) == (404, 405, 413)
    assert all(response.headers.get("x-request-id") for response in (unmatched, wrong_method, too_large))
    assert probes == [200, 200, 200]
    assert empty_poll.json()["items"] == []
    lines = [json.loads(line) for line in service.logs().splitlines() if line.startswith("{")]
    access = [(line["method"], line["route"], line["status"]) for line in lines if line["logger"] == "access"]
    assert ("GET", "unmatched", 404) in access
    assert ("DELETE", "unmatched", 405) in access  # no route takes DELETE there
    assert ("POST", "/webhooks/clerk", 413) in access
    assert not [entry for entry in access if entry[1] in ("/healthz", "/readyz", "/metrics")]
    assert not [entry for entry in access if entry[1] == "/internal/users/changes"]
    assert "user_secret123" not in service.logs()  # a raw path never reaches the log
    assert 'identity_requests_total{app_name="identity",method="GET",path="unmatched",status_code="404"} 1.0' in metrics
    assert 'method="DELETE",path="unmatched",status_code="405"' in metrics
    assert 'method="GET",path="/readyz",status_code="200"' in metrics


async def test_sigterm_lets_the_request_in_flight_finish_then_exits(
    identity_db: str, clerk_standin: ServiceProcess, clerk: httpx.AsyncClient, svix_secret: str, tmp_path: Path
):
    env = identity_env(identity_db, clerk_standin.url, svix_secret)
    service = ServiceProcess("services.identity", env, tmp_path / "identity.log", ready_path="/readyz").start()
    created = await clerk.post("/_standin/users", json={"email": "in.flight@example.com", "deliver": False})
    await clerk.put("/_standin/faults", json={"latency_seconds": 1.5})  # the ensure call waits on Clerk
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
            in_flight = asyncio.create_task(
                client.post(
                    "/internal/users/ensure",
                    json={"clerk_id": created.json()["user"]["id"]},
                    headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
                )
            )
            assert await eventually(lambda: _asked_clerk(clerk), within=5)
            stopping = asyncio.create_task(asyncio.to_thread(service.stop))
            answered = await in_flight
            exit_code = await stopping
    finally:
        service.stop()
        await clerk.delete("/_standin/faults")

    assert answered.status_code == 200
    assert exit_code in (0, -signal.SIGTERM)


async def _asked_clerk(clerk: httpx.AsyncClient) -> bool:
    stats = (await clerk.get("/_standin/stats")).json()
    return sum(stats["requests"].values()) > 0
