"""A candidate withdraws a consent (GDPR Art. 7(3): as easily as it was given), at any time: recorded on the consent
rows (`withdrawn_at`) and acted on in the same transaction. The recording's withdrawal erases the recording (a
running egress is stopped, every version of the file deleted, through the durable queues); the AI evaluation's
erases the agent's report and refuses the agent any new one (its brief says so). Idempotent."""

import uuid

from libs.common.db import Database
from services.sessions.consents import store
from services.sessions.consents.store import Scope
from services.sessions.errors import InterviewNotFound
from services.sessions.metrics import CONSENTS
from services.sessions.recordings import store as recording_store


async def withdraw_consent(database: Database, clerk_id: str, interview_id: uuid.UUID, scope: Scope) -> None:
    """Withdraw the caller's consent of `scope` to their interview (another user's interview: 404, untouched)."""
    async with database.transaction() as conn:
        if not await store.hold_own_interview(conn, clerk_id, interview_id):
            raise InterviewNotFound(f"No interview {interview_id} of yours.")
        await store.withdraw(conn, interview_id, scope)
        if scope == "recording":
            await recording_store.erase_recordings(conn, [interview_id], "consent_withdrawn")
        else:
            await store.erase_report(conn, interview_id)
    CONSENTS.labels(scope, "withdrawn").inc()
