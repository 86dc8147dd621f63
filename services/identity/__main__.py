"""`python -m services.identity migrate | serve --host H --port P | backfill [--dry-run]`."""

import argparse
import asyncio
import sys

import msgspec

from libs.common.cli import Command, run_service
from libs.common.db import Database
from services.identity.backfill import BackfillReport, reconcile_with_clerk
from services.identity.clerk import ClerkClient, ClerkUnavailable
from services.identity.settings import IdentitySettings, load_identity_settings


def _print_progress(report: BackfillReport) -> None:
    print(
        f"backfill: seen {report.seen}  created {report.created}  updated {report.updated}  "
        f"unchanged {report.unchanged}  tombstoned {report.tombstoned}  skipped {report.skipped}"
        + ("  (dry run)" if report.dry_run else ""),
        file=sys.stderr,
        flush=True,
    )


async def _backfill(settings: IdentitySettings, dry_run: bool) -> int:
    database = Database(settings.database_url, max_size=2)
    await database.open()
    try:
        async with ClerkClient(settings.clerk_api_url, settings.clerk_secret_key, timeout=10) as clerk:
            report = await reconcile_with_clerk(database, clerk, dry_run=dry_run, on_progress=_print_progress)
    except ClerkUnavailable as error:
        print(f"backfill stopped, Clerk is unavailable ({error}); run it again to resume", file=sys.stderr)
        return 1
    finally:
        await database.close()
    print(msgspec.json.encode(report).decode())
    return 0


def _backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only report the drift; write nothing")


BACKFILL = Command(
    help="make the users table equal Clerk's user list (create missing, refresh stale, tombstone deleted)",
    run=lambda settings, args: asyncio.run(_backfill(settings, args.dry_run)),
    arguments=_backfill_arguments,
)

if __name__ == "__main__":
    run_service(
        name="identity",
        piccolo_app="identity",
        piccolo_conf="services.identity.piccolo_conf",
        load_settings=load_identity_settings,
        app_factory="services.identity.app:app_from_environment",
        commands={"backfill": BACKFILL},
    )
