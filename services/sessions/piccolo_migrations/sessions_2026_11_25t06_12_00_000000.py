from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T06:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the expired status; indexes for open interviews and for pruning webhook event ids"

STATEMENTS = (
    """ALTER TABLE interviews
        DROP CONSTRAINT interviews_status_known,
        ADD CONSTRAINT interviews_status_known CHECK (status IN ('created', 'active', 'ended', 'expired'))""",
    # The start's cap (open interviews of one user) and the reconciler's walk over open interviews.
    """CREATE INDEX interviews_open_by_owner ON interviews (clerk_id, token_expires_at)
        WHERE status IN ('created', 'active')""",
    "CREATE INDEX interviews_open ON interviews (id) WHERE status IN ('created', 'active')",
    "CREATE INDEX livekit_webhook_events_by_age ON livekit_webhook_events (received_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def add_constraints_and_indexes() -> None:
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_constraints_and_indexes)
    return manager
