"""The whole system on one machine: embedded PostgreSQL, the Clerk and LiveKit stand-ins, identity and sessions,
and the dev frontend on http://localhost:3000.

LiveKit: a server already listening on `LIVEKIT_URL`'s default port (a real `livekit-server --dev`) is used
as it is; otherwise the LiveKit stand-in serves that port. The banner says which.

Run through `python3 dev.py up`. State lives in `.dev/` (git-ignored): the PostgreSQL data folder and the
generated development secrets, so a restart keeps users, interviews and keys. Ctrl-C (or SIGTERM) stops
every process it started, then PostgreSQL.
"""

import os
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
import msgspec

from deploy.dev.secrets import DevSecrets, load_or_create_secrets
from deploy.dev.stack import FRONTEND, ROOT, ServiceProcess, Stack, embedded_postgres, frontend_environment
from deploy.dev.standins.clerk.session_tokens import mint_session_token

STATE_DIR = Path(os.environ.get("DEV_STATE_DIR", ROOT / ".dev")).resolve()
LOG_DIR = STATE_DIR / "logs"
"""Each process's own output goes to a file here, so the terminal shows the banner and the stack's own words."""
DEMO_USER = "user_2DevDemoUser000000000000000"


class StackInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the walkthrough (and a person) needs to reach the running stack; written to `.dev/stack.json`."""

    identity_url: str
    sessions_url: str
    clerk_url: str
    livekit_url: str
    livekit_standin_url: str | None  # its control API, when the stand-in plays LiveKit
    frontend_url: str  # the dev frontend, at the origin sessions grants CORS
    identity_database_url: str
    sessions_database_url: str


LIVEKIT_PORT = int(os.environ.get("DEV_LIVEKIT_PORT", "7880"))  # LIVEKIT_URL's default, `livekit-server --dev`'s
FRONTEND_PORT = int(os.environ.get("DEV_FRONTEND_PORT", "3000"))
FRONTEND_ORIGIN = f"http://localhost:{FRONTEND_PORT}"  # DEV_APP_ORIGIN unless DEV_FRONTEND_PORT moves it


def _ports() -> dict[str, int]:
    defaults = {"clerk": ("DEV_CLERK_PORT", 8790), "identity": ("DEV_IDENTITY_PORT", 8001)}
    defaults["sessions"] = ("DEV_SESSIONS_PORT", 8002)
    ports = {name: int(os.environ.get(variable, default)) for name, (variable, default) in defaults.items()}
    return ports | {"livekit": LIVEKIT_PORT}


def _livekit_server_running() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", LIVEKIT_PORT)) == 0


def _livekit_line(info: StackInfo) -> str:
    if info.livekit_standin_url:
        return f"{info.livekit_url} (stand-in; devkey/secret; control API {info.livekit_standin_url}/_standin/)"
    webhook = f"{info.sessions_url}/webhooks/livekit"
    return f"{info.livekit_url} (the livekit-server already running; point its webhook at {webhook})"


def print_banner(info: StackInfo, secrets: DevSecrets, demo_user: str) -> None:
    token = mint_session_token(
        secrets.jwt_private_pem, subject=demo_user, lifetime_seconds=24 * 3600, authorized_party=info.frontend_url
    )
    print(
        f"""
  ┌ interview backend: development stack
  │ sessions  {info.sessions_url}   OpenAPI {info.sessions_url}/schema/swagger
  │ identity  {info.identity_url}   OpenAPI {info.identity_url}/schema/swagger
  │ clerk     {info.clerk_url}   (stand-in; control API under /_standin/)
  │ livekit   {_livekit_line(info)}
  │ frontend  {info.frontend_url}   (dev frontend: sign up and in, start interviews, read reports, in a browser)
  │ state     {STATE_DIR}
  │ logs      {LOG_DIR}/  (a JSON-lines file per process: identity.log, sessions.log, clerk.log, livekit.log,
  │           frontend.log; follow one with  tail -f {LOG_DIR}/sessions.log)
  │
  │ Start an interview as the demo user {demo_user} (token valid 24 h):
  │   curl -s -X POST {info.sessions_url}/api/livekit/connection-details \\
  │        -H 'Authorization: Bearer {token}'
  │ Walk through the scenarios:  python3 dev.py walkthrough
  └ Ctrl-C stops everything.
""",
        flush=True,
    )


STANDIN_AGENT = "interviewer"


def main() -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(STATE_DIR / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets = load_or_create_secrets(STATE_DIR / "secrets.json")

    stopping = False

    def request_stop(signum: int, _: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        print(f"\nreceived {signal.Signals(signum).name}: stopping the stack", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    with embedded_postgres(STATE_DIR / "pgdata", keep_data=True) as postgres:
        databases = {service: postgres.migrated_database(service, service) for service in ("identity", "sessions")}
        livekit_url = f"ws://localhost:{LIVEKIT_PORT}" if _livekit_server_running() else None
        # With the stand-in, every interview dispatches its agent (which the stand-in plays on request); a real
        # LiveKit server keeps its own dispatch (an agent-starter worker registers without a name).
        # The frontend's origin is the app's: its session tokens' azp, and the page an invite's link opens.
        environment = {
            "sessions": {
                "CLERK_AUTHORIZED_PARTIES": FRONTEND_ORIGIN,
                "INVITE_URL_TEMPLATE": f"{FRONTEND_ORIGIN}/invite/{{code}}",
            }
        }
        if livekit_url is None:
            environment["sessions"]["LIVEKIT_DEFAULT_AGENT"] = STANDIN_AGENT
        stack = Stack(
            secrets, databases, livekit_url=livekit_url, ports=_ports(), environment=environment, log_dir=LOG_DIR
        )
        info = StackInfo(
            identity_url=stack.identity.url,
            sessions_url=stack.sessions.url,
            clerk_url=stack.clerk_url,
            livekit_url=stack.livekit_url,
            livekit_standin_url=stack.livekit.url if stack.livekit else None,
            frontend_url=FRONTEND_ORIGIN,
            identity_database_url=databases["identity"],
            sessions_database_url=databases["sessions"],
        )
        frontend_env = frontend_environment(
            secrets,
            origin=FRONTEND_ORIGIN,
            sessions_url=info.sessions_url,
            clerk_url=info.clerk_url,
            livekit_standin_url=info.livekit_standin_url,
        )
        frontend = ServiceProcess(
            FRONTEND, frontend_env, LOG_DIR / "frontend.log", port=FRONTEND_PORT, ready_path="/healthz"
        )
        try:
            stack.start()
            frontend.start(timeout=180)  # the first start installs livekit-client's browser build from npm
            (STATE_DIR / "stack.json").write_bytes(msgspec.json.encode(info))
            demo = httpx.post(
                f"{info.clerk_url}/_standin/users",
                json={"user_id": DEMO_USER, "email": "demo@example.com", "first_name": "Demo", "deliver": False},
            ).json()["user"]["id"]
            print_banner(info, secrets, demo)
            while not stopping:
                if exited := stack.exited() + ([] if frontend.running() else [FRONTEND]):
                    print(
                        f"{', '.join(exited)} exited (its log is in {LOG_DIR}); stopping the stack",
                        file=sys.stderr,
                        flush=True,
                    )
                    break
                time.sleep(0.2)
        finally:
            frontend.stop()
            stack.stop()
            (STATE_DIR / "stack.json").unlink(missing_ok=True)
    print("stack stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
