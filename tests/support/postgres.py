"""A real PostgreSQL for the tests: the dev stack's embedded server (`deploy.dev.stack`), or the server
TEST_POSTGRES_URL names; each test gets its own database, cloned from a migrated template."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from deploy.dev.stack import PostgresServer, embedded_postgres


class PostgresForTests(PostgresServer):
    """One server for the whole run; per-test databases are file copies of `<service>_template`."""

    def migrated_template(self, service: str) -> str:
        """`<service>_template`, migrated with the service's real `migrate` command."""
        template = f"{service}_template"
        self.migrated_database(template, service)
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


@contextmanager
def postgres_for_tests() -> Iterator[PostgresForTests]:
    """TEST_POSTGRES_URL's server if set, else an embedded one in a fresh folder, deleted afterwards."""
    override = os.environ.get("TEST_POSTGRES_URL")
    if override:
        yield PostgresForTests(override)
        return
    with (
        tempfile.TemporaryDirectory(prefix="pg-tests-") as scratch,
        embedded_postgres(Path(scratch) / "data", keep_data=False) as server,
    ):
        yield PostgresForTests(server.admin_url)
