from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T04:39:26:000000"
VERSION = "1.38.0"
DESCRIPTION = "rights: the indexes and checks of tombstones, decisions and access records"

# Rolling deploys: new tables and two nullable report columns, which replicas of the previous release never read.
FORWARDS = (
    "CREATE INDEX interview_tombstones_by_org ON interview_tombstones (org_id, created_at DESC, id DESC)",
    """ALTER TABLE interview_tombstones ADD CONSTRAINT interview_tombstones_deleted_by
       CHECK (deleted_by IN ('candidate', 'retention'))""",
    "CREATE INDEX decisions_by_interview ON decisions (interview, decided_at DESC, id DESC)",
    "ALTER TABLE decisions ADD CONSTRAINT decisions_decision CHECK (decision IN ('advance', 'reject', 'hold'))",
    "CREATE INDEX access_records_by_org ON access_records (org_id, at DESC, id DESC)",
    "CREATE INDEX access_records_by_interview ON access_records (interview_id, actor, what)",
    "CREATE INDEX access_records_by_age ON access_records (at)",
    """ALTER TABLE access_records ADD CONSTRAINT access_records_what
       CHECK (what IN ('detail', 'transcript', 'recording'))""",
    "CREATE INDEX interviews_ended ON interviews (ended_at) WHERE status = 'ended'",
)
BACKWARDS = (
    "DROP INDEX interviews_ended",
    "ALTER TABLE access_records DROP CONSTRAINT access_records_what",
    "DROP INDEX access_records_by_age",
    "DROP INDEX access_records_by_interview",
    "DROP INDEX access_records_by_org",
    "ALTER TABLE decisions DROP CONSTRAINT decisions_decision",
    "DROP INDEX decisions_by_interview",
    "ALTER TABLE interview_tombstones DROP CONSTRAINT interview_tombstones_deleted_by",
    "DROP INDEX interview_tombstones_by_org",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sessions", description=DESCRIPTION)

    async def forwards_ddl() -> None:
        for ddl in FORWARDS:
            await engine_finder().run_ddl(ddl)

    async def backwards_ddl() -> None:
        for ddl in BACKWARDS:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(forwards_ddl)
    manager.add_raw_backwards(backwards_ddl)
    return manager
