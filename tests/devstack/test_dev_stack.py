"""`python3 dev.py up` from a clean state folder: everything comes up, the walkthrough passes, Ctrl-C leaves
no process behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from deploy.dev.stack import ROOT, free_port


def started_by(pid: int, state_dir: Path) -> list[psutil.Process]:
    """The runner's descendants, plus PostgreSQL (pg_ctl daemonizes it, so it is nobody's child)."""
    processes = psutil.Process(pid).children(recursive=True)
    for process in psutil.process_iter(["cmdline"]):
        if str(state_dir) in " ".join(process.info["cmdline"] or []):
            processes.append(process)
    return processes


def wait_ready(urls: list[str], runner: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            assert runner.poll() is None, "the dev stack exited during start-up"
            assert time.monotonic() < deadline, f"{url} not ready in {timeout} s"
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)


def test_dev_stack_runs_the_walkthrough_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    names = ("DEV_IDENTITY_PORT", "DEV_SESSIONS_PORT", "DEV_CLERK_PORT", "DEV_LIVEKIT_PORT", "DEV_FRONTEND_PORT")
    ports = {name: free_port() for name in names}
    state_dir = tmp_path / "state"
    env = {**os.environ, "DEV_STATE_DIR": str(state_dir), **{k: str(v) for k, v in ports.items()}}
    log = (tmp_path / "stack.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "up"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    started: list[psutil.Process] = []
    try:
        wait_ready(
            [
                f"http://127.0.0.1:{ports['DEV_IDENTITY_PORT']}/readyz",
                f"http://127.0.0.1:{ports['DEV_SESSIONS_PORT']}/readyz",
                f"http://127.0.0.1:{ports['DEV_FRONTEND_PORT']}/healthz",
            ],
            runner,
        )
        started = started_by(runner.pid, state_dir)
        commands = " ".join(" ".join(process.cmdline()) for process in started)
        stand_ins = ("deploy.dev.standins.clerk", "deploy.dev.standins.livekit", "deploy.dev.frontend")
        for expected in ("postgres", *stand_ins, "services.identity", "services.sessions"):
            assert expected in commands

        frontend = f"http://localhost:{ports['DEV_FRONTEND_PORT']}"
        preflight = httpx.options(  # the dev frontend's origin may call the API from a browser
            f"http://127.0.0.1:{ports['DEV_SESSIONS_PORT']}/api/livekit/token",
            headers={"Origin": frontend, "Access-Control-Request-Method": "POST"},
            timeout=5,
        )
        assert preflight.headers.get("access-control-allow-origin") == frontend
        page = httpx.get(f"http://127.0.0.1:{ports['DEV_FRONTEND_PORT']}/", timeout=5)
        assert page.status_code == 200
        assert 'src="/app.js"' in page.text
        assert httpx.get(f"{page.url}vendor/livekit-client.esm.mjs", timeout=5).status_code == 200

        walkthrough = subprocess.run(
            [sys.executable, str(ROOT / "dev.py"), "walkthrough"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert walkthrough.returncode == 0, walkthrough.stdout + walkthrough.stderr
        assert walkthrough.stdout.count("✓") >= 14
        assert "✗" not in walkthrough.stdout
        assert "the final leave ends the interview" in walkthrough.stdout
        assert "the candidate reads the whole transcript" in walkthrough.stdout
        assert "its templates, invites and interviews are erased within seconds" in walkthrough.stdout
        assert "every scenario behaved as promised" in walkthrough.stdout

        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=60) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
        log.close()
    survivors = [process for process in started if process.is_running() and process.status() != "zombie"]
    assert survivors == [], (tmp_path / "stack.log").read_text()[-3000:]
    banner = (tmp_path / "stack.log").read_text()
    assert "/api/livekit/connection-details" in banner
    assert f"ws://127.0.0.1:{ports['DEV_LIVEKIT_PORT']} (stand-in;" in banner
    assert f"frontend  http://localhost:{ports['DEV_FRONTEND_PORT']}" in banner
    assert "stack stopped" in banner
    before_banner = banner.split("interview backend: development stack", 1)[0]
    assert not [line for line in before_banner.splitlines() if line.startswith("{")]  # no server's log lines
    assert "logs      " in banner
