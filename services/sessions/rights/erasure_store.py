"""SQL for erasing interviews, as a candidate's deletion or retention does: in the caller's transaction, each goes
with everything of it (its transcript, report and decisions by cascade; its consents; its recording, whose objects'
deletion is queued), its candidate is removed from its room if it is live, its invite forgets it, and an
organization's interview leaves a tombstone naming nothing of its content. Access records stay (the deployer's log,
kept `ACCESS_LOG_RETENTION_DAYS`)."""

import uuid
from typing import Literal

import asyncpg

from libs.common.db import rows_affected
from services.sessions.recordings import store as recording_store

DeletedBy = Literal["candidate", "retention"]


async def erase_interviews(conn: asyncpg.Connection, interview_ids: list[uuid.UUID], deleted_by: DeletedBy) -> int:
    """Erase the interviews (locked by the caller); how many were erased."""
    await recording_store.erase_recordings(conn, interview_ids, deleted_by)
    await conn.execute(
        """INSERT INTO room_removals (room_name, clerk_id)
           SELECT room_name, clerk_id FROM interviews WHERE id = ANY($1::uuid[]) AND status IN ('created', 'active')
           ON CONFLICT (room_name, clerk_id) DO NOTHING""",
        interview_ids,
    )
    await conn.execute(
        """INSERT INTO interview_tombstones (id, org_id, created_at, deleted_by)
           SELECT id, org_id, created_at, $2 FROM interviews WHERE id = ANY($1::uuid[]) AND org_id IS NOT NULL
           ON CONFLICT (id) DO NOTHING""",
        interview_ids,
        deleted_by,
    )
    await conn.execute(
        """DELETE FROM consents c USING interviews i
           WHERE i.id = ANY($1::uuid[]) AND c.invite = i.invite_id AND c.clerk_id = i.clerk_id""",
        interview_ids,
    )
    await conn.execute(
        "UPDATE invites SET redeemed_by = NULL, interview_id = NULL WHERE interview_id = ANY($1::uuid[])",
        interview_ids,
    )
    return rows_affected(await conn.execute("DELETE FROM interviews WHERE id = ANY($1::uuid[])", interview_ids))


async def hold_own_interview(conn: asyncpg.Connection, clerk_id: str, interview_id: uuid.UUID) -> bool | None:
    """Lock the interview if it is the caller's: True; another user's: False; none (never, or erased): None."""
    owner = await conn.fetchval("SELECT clerk_id FROM interviews WHERE id = $1 FOR UPDATE", interview_id)
    return None if owner is None else owner == clerk_id
