from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T06:27:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "the users' feed starts from the beginning"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def add_the_feed() -> None:
        await engine_finder().run_ddl(
            "INSERT INTO feed_cursors (feed, cursor) VALUES ('identity-users', '') ON CONFLICT DO NOTHING"
        )

    manager.add_raw(add_the_feed)
    return manager
