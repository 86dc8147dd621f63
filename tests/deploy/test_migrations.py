"""Each service's migrations describe its Piccolo tables exactly (the auto-diff finds nothing to add), and the
migrations since the organizations release go back and forth: a release can be rolled back."""

import os
import subprocess
import sys

import pytest

from deploy.dev.stack import ROOT
from tests.support.postgres import PostgresForTests

# The first migration of the organizations release, per service: going back before it and forward again.
ORGANIZATIONS_RELEASE = {"identity": "2026-12-06T09:13:39:899000", "sessions": "2026-12-06T09:07:58:668643"}


def migrations_since(service: str, first_id: str) -> int:
    """How many of the service's migrations there are from `first_id` on (file names spell their ids)."""
    first = f"{service}_" + first_id.lower().replace("-", "_").replace(":", "_")
    names = (path.stem for path in (ROOT / "services" / service / "piccolo_migrations").glob(f"{service}_*.py"))
    return sum(name >= first for name in names)


def piccolo(service: str, database_url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "PICCOLO_CONF": f"services.{service}.piccolo_conf"}
    done = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("service", ["identity", "sessions"])
def test_the_migrations_match_the_tables_and_the_release_rolls_back_and_forward(
    postgres: PostgresForTests, service: str
):
    name = f"migrations_{service}"
    postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    url = postgres.migrated_database(name, service)

    diff = piccolo(service, url, "new", service, "--auto")
    back = piccolo(service, url, "backwards", service, "--migration_id", ORGANIZATIONS_RELEASE[service], "--auto_agree")
    forward = piccolo(service, url, "forwards", service)

    assert "No changes detected" in diff
    since = migrations_since(service, ORGANIZATIONS_RELEASE[service])
    assert since >= 2
    assert back.count("[backwards]... ok") == since
    assert forward.count("[forwards]... ok") == since
    postgres.execute(f"DROP DATABASE {name} WITH (FORCE)")
