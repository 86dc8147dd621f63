"""SQL for erasing an organization: everything of it goes, in one transaction, under the organization's lock
(taken alone: every template write holds it shared, so none slips in beside the erasure)."""

import asyncpg

from libs.common.db import rows_affected
from services.sessions.recordings import store as recording_store


async def erase_organization(conn: asyncpg.Connection, org_id: str) -> int:
    """Erase the organization's templates (their versions with them), invites (their consents with them) and
    interviews (their transcripts, reports and decisions with them), its tombstones and settings, queue their
    recordings' erasure from the bucket and its candidates' removal from the rooms of its open interviews, and keep
    its id alone in `erased_organizations` (its access records stay their `ACCESS_LOG_RETENTION_DAYS`); how many
    interviews were erased. Every redemption holds the organization's lock shared, so none is under way."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('org:' || $1, 0))", org_id)
    await conn.execute("INSERT INTO erased_organizations (org_id) VALUES ($1) ON CONFLICT DO NOTHING", org_id)
    await conn.execute("DELETE FROM invites WHERE org_id = $1", org_id)
    await conn.execute(
        """INSERT INTO room_removals (room_name, clerk_id)
           SELECT room_name, clerk_id FROM interviews WHERE org_id = $1 AND status IN ('created', 'active')
           ON CONFLICT (room_name, clerk_id) DO NOTHING""",
        org_id,
    )
    interviews = [row["id"] for row in await conn.fetch("SELECT id FROM interviews WHERE org_id = $1", org_id)]
    await recording_store.erase_recordings(conn, interviews, "organization_deleted")
    erased = rows_affected(await conn.execute("DELETE FROM interviews WHERE org_id = $1", org_id))
    await conn.execute("DELETE FROM interview_templates WHERE org_id = $1", org_id)
    await conn.execute("DELETE FROM interview_tombstones WHERE org_id = $1", org_id)
    await conn.execute("DELETE FROM organization_settings WHERE org_id = $1", org_id)
    return erased
