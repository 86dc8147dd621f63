from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T05:00:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "the users changes feed: written by a trigger in the transaction of each user write"

STATEMENTS = (
    """ALTER TABLE user_changes
        ALTER COLUMN xact SET DEFAULT pg_current_xact_id()::text::bigint,
        ADD CONSTRAINT user_changes_change_known
            CHECK (change IN ('deleted', 'banned', 'unbanned', 'locked', 'unlocked'))""",
    "CREATE INDEX user_changes_feed_order ON user_changes (xact, position)",
    """CREATE FUNCTION record_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.deleted_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.deleted_at IS NULL) THEN
            INSERT INTO user_changes (clerk_id, user_id, change) VALUES (NEW.clerk_id, NEW.id, 'deleted');
        END IF;
        IF NEW.banned IS DISTINCT FROM (CASE WHEN TG_OP = 'INSERT' THEN false ELSE OLD.banned END) THEN
            INSERT INTO user_changes (clerk_id, user_id, change)
            VALUES (NEW.clerk_id, NEW.id, CASE WHEN NEW.banned THEN 'banned' ELSE 'unbanned' END);
        END IF;
        IF NEW.locked IS DISTINCT FROM (CASE WHEN TG_OP = 'INSERT' THEN false ELSE OLD.locked END) THEN
            INSERT INTO user_changes (clerk_id, user_id, change)
            VALUES (NEW.clerk_id, NEW.id, CASE WHEN NEW.locked THEN 'locked' ELSE 'unlocked' END);
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER users_record_changes AFTER INSERT OR UPDATE ON users
        FOR EACH ROW EXECUTE FUNCTION record_user_change()""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def add_trigger() -> None:
        for statement in STATEMENTS:
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_trigger)
    return manager
