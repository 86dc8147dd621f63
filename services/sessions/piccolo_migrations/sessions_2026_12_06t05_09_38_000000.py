from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-06T05:09:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "one transcript segment per (interview, seq); one room removal per (room, user); report checks"

# Piccolo states no unique constraint over two columns. `IF NOT EXISTS`: a database migrated before these moved
# here (2026-12-06T04:30 once created room_removals' with the table) already has them, under the same names.
FORWARDS = (
    "CREATE UNIQUE INDEX IF NOT EXISTS transcript_segments_interview_seq_key ON transcript_segments (interview, seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS room_removals_room_name_clerk_id_key ON room_removals (room_name, clerk_id)",
    "CREATE INDEX IF NOT EXISTS room_removals_due ON room_removals (next_attempt_at)",
    # the reconciler's look for ended interviews past the agent's grace period, not yet counted
    "CREATE INDEX interviews_report_unchecked ON interviews (ended_at) WHERE status = 'ended' AND NOT report_checked",
)
BACKWARDS = (
    "DROP INDEX interviews_report_unchecked",
    "DROP INDEX transcript_segments_interview_seq_key",
    "ALTER TABLE room_removals DROP CONSTRAINT IF EXISTS room_removals_room_name_clerk_id_key",
    "DROP INDEX IF EXISTS room_removals_room_name_clerk_id_key",
    "DROP INDEX room_removals_due",
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
