from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the users changes feed's trigger fires only for the writes it records"

# Most user writes (a profile update, a first insert) change nothing the feed records. A WHEN condition is
# checked by the server itself: for those writes no trigger function runs and no after-trigger event is
# queued, where before every user write ran the function to find nothing to do. The function is unchanged.
STATEMENTS = (
    "DROP TRIGGER users_record_changes ON users",
    """CREATE TRIGGER users_record_changes_on_insert AFTER INSERT ON users
        FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL OR NEW.banned OR NEW.locked)
        EXECUTE FUNCTION record_user_change()""",
    """CREATE TRIGGER users_record_changes_on_update AFTER UPDATE ON users
        FOR EACH ROW WHEN ((NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL)
                           OR NEW.banned IS DISTINCT FROM OLD.banned OR NEW.locked IS DISTINCT FROM OLD.locked)
        EXECUTE FUNCTION record_user_change()""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def narrow_the_trigger() -> None:
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(narrow_the_trigger)
    return manager
