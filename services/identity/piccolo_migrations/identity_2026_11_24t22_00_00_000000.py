from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "closed vocabularies and non-blank keys, which Piccolo cannot declare"

CONSTRAINTS = (
    """ALTER TABLE users
        ADD CONSTRAINT users_clerk_id_present CHECK (clerk_id <> ''),
        ADD CONSTRAINT users_created_via_known CHECK (created_via IN ('webhook', 'ensure', 'backfill')),
        ADD CONSTRAINT users_profile_status_known CHECK (profile_status IN ('complete', 'pending'))""",
    """ALTER TABLE webhook_events
        ADD CONSTRAINT webhook_events_svix_id_present CHECK (svix_id <> ''),
        ADD CONSTRAINT webhook_events_outcome_known
            CHECK (outcome IN ('received', 'applied', 'stale', 'ignored'))""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def add_constraints() -> None:
        for statement in CONSTRAINTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_constraints)
    return manager
