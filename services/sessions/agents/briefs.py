"""The agent's brief: what the agent dispatched into an interview's room reads before it speaks. For an
organization's interview, the template version the interview pinned (instructions, questions, rubric, length);
for one a candidate started on their own, no template. The same LiveKit token as for its report (roomAdmin over
the room), checked before the interview is looked up."""

import uuid

import msgspec

from libs.common.db import Database
from libs.common.request_context import annotate_request
from services.sessions.agents import brief_store
from services.sessions.agents.auth import AgentGrant
from services.sessions.agents.brief_store import BriefTemplate
from services.sessions.agents.reports import check_grant, refuse
from services.sessions.consents import store as consent_store
from services.sessions.consents.store import ConsentNow
from services.sessions.errors import AgentNotPermitted, InterviewNotFound


class BriefCandidate(msgspec.Struct, frozen=True):
    name: str | None


class AgentBrief(msgspec.Struct, frozen=True, kw_only=True):
    """`consent` as it stands now: without `ai_evaluation` the agent may not report on the candidate (its report
    was erased and a new one is refused); `recording` tells it whether the room is being recorded."""

    interview_id: uuid.UUID
    status: str
    candidate: BriefCandidate
    template: BriefTemplate | None
    consent: ConsentNow


async def read_brief(database: Database, grant: AgentGrant, interview_id: uuid.UUID) -> AgentBrief:
    """The brief of the interview whose room the agent's token administers."""
    room = check_grant(grant)
    annotate_request(interview_id=str(interview_id))
    async with database.connection() as conn:
        found = await brief_store.brief(conn, interview_id)
        consent = await consent_store.consent_now(conn, interview_id)
    if found is None:
        raise refuse("unknown_interview", InterviewNotFound(f"No interview {interview_id}."))
    if found.room_name != room:
        raise refuse("other_room", AgentNotPermitted(f"The token does not administer interview {interview_id}."))
    return AgentBrief(
        interview_id=interview_id,
        status=found.status,
        candidate=BriefCandidate(found.candidate_name),
        template=found.template,
        consent=consent,
    )
