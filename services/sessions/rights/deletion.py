"""A candidate deletes one of their interviews (Illinois' AI Video Interview Act §15; GDPR Art. 17), live or not:
its room is closed to them first (the removal queue), and it goes with everything of it through the one erasure;
recruiters keep a tombstone (`deleted_by: candidate`), the candidate's own reads answer 404, the agent can no
longer write to it. Idempotent: an interview already gone is 204 again; another user's is 404, untouched."""

import uuid

from libs.common.db import Database
from services.sessions.errors import InterviewNotFound
from services.sessions.metrics import ERASURES
from services.sessions.rights import erasure_store


async def delete_interview(database: Database, clerk_id: str, interview_id: uuid.UUID) -> None:
    async with database.transaction() as conn:
        owned = await erasure_store.hold_own_interview(conn, clerk_id, interview_id)
        if owned is False:
            raise InterviewNotFound(f"No interview {interview_id} of yours.")
        if owned:
            await erasure_store.erase_interviews(conn, [interview_id], "candidate")
    if owned:
        ERASURES.labels("candidate").inc()
