from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T22:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the owner's newest-first index, the status vocabulary and non-blank keys"

STATEMENTS = (
    """ALTER TABLE interviews
        ADD CONSTRAINT interviews_status_known CHECK (status IN ('created', 'active', 'ended')),
        ADD CONSTRAINT interviews_clerk_id_present CHECK (clerk_id <> ''),
        ADD CONSTRAINT interviews_room_name_present CHECK (room_name <> '')""",
    # GET /api/interviews: WHERE clerk_id = $1 AND (created_at, id) < cursor ORDER BY created_at DESC, id DESC
    "CREATE INDEX interviews_by_owner_newest_first ON interviews (clerk_id, created_at DESC, id DESC)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def add_constraints_and_index() -> None:
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_constraints_and_index)
    return manager
