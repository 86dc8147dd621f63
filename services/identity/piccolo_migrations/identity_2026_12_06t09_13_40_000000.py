from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T09:13:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "the organizations' changes feed, written by a trigger; users made from their session token's claims"

# A feed of its own, not items on the users' feed: sessions replicas of the previous release keep reading the
# users' feed during a rolling deploy, and an item without `clerk_id` there would stop them (they cannot decode
# it). Read exactly as the users' feed is: in (xact, position) order, only below the oldest transaction in flight.
FORWARDS = (
    # A user ensure-user made from the profile their session token carries, without asking Clerk.
    """ALTER TABLE users DROP CONSTRAINT users_created_via_known,
        ADD CONSTRAINT users_created_via_known CHECK (created_via IN ('webhook', 'ensure', 'backfill', 'claims'))""",
    """ALTER TABLE organization_changes
        ALTER COLUMN xact SET DEFAULT pg_current_xact_id()::text::bigint,
        ADD CONSTRAINT organization_changes_change_known CHECK (change IN ('organization_deleted'))""",
    "CREATE INDEX organization_changes_feed_order ON organization_changes (xact, position)",
    """CREATE FUNCTION record_organization_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO organization_changes (org_id, change) VALUES (NEW.clerk_org_id, 'organization_deleted');
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER organizations_record_changes_on_insert AFTER INSERT ON organizations
        FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION record_organization_change()""",
    """CREATE TRIGGER organizations_record_changes_on_update AFTER UPDATE ON organizations
        FOR EACH ROW WHEN (NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL)
        EXECUTE FUNCTION record_organization_change()""",
)
BACKWARDS = (
    "DROP TRIGGER organizations_record_changes_on_update ON organizations",
    "DROP TRIGGER organizations_record_changes_on_insert ON organizations",
    "DROP FUNCTION record_organization_change()",
    "DROP INDEX organization_changes_feed_order",
    """ALTER TABLE organization_changes DROP CONSTRAINT organization_changes_change_known,
        ALTER COLUMN xact SET DEFAULT 0""",
    "UPDATE users SET created_via = 'ensure' WHERE created_via = 'claims'",
    """ALTER TABLE users DROP CONSTRAINT users_created_via_known,
        ADD CONSTRAINT users_created_via_known CHECK (created_via IN ('webhook', 'ensure', 'backfill'))""",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="identity", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        for ddl in FORWARDS:
            await engine_finder().run_ddl(ddl)

    async def backwards_ddl() -> None:
        for ddl in BACKWARDS:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
