"""The agent's API: the agent dispatched into an interview's room writes its transcript and report."""

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from libs.common.openapi import WITH_BODY, problems
from services.sessions.agents.auth import AgentGrant
from services.sessions.agents.briefs import AgentBrief, read_brief
from services.sessions.agents.reports import (
    ReportReceipt,
    ReportWrite,
    TranscriptBatch,
    TranscriptReceipt,
    write_report,
    write_transcript,
)
from services.sessions.runtime import Runtime

AgentRequest = Request[AgentGrant, None, Any]
AGENT_REFUSALS = (401, 403, 404, 409, 503)
"""401: no valid LiveKit token; 403: it administers no room, or another interview's; 404: no such interview."""


class AgentInterviewsController(Controller):
    path = "/interviews"
    tags = ("agent",)

    @get(
        "/{interview_id:uuid}",
        summary="The agent's brief: the candidate, and the template version an organization's interview pinned",
        responses=problems(401, 403, 404, 503),
    )
    async def brief(
        self, request: AgentRequest, interview_id: FromPath[uuid.UUID], runtime: NamedDependency[Runtime]
    ) -> AgentBrief:
        return await read_brief(runtime.database, request.user, interview_id)

    @post(
        "/{interview_id:uuid}/transcript",
        status_code=200,
        summary="Add transcript segments (idempotent by seq)",
        description="409: another segment is stored under one of the `seq`s (nothing of the batch is stored), or "
        "the interview takes no more writes; 422: a bound (`agent-write-too-large`) or segments that contradict "
        "each other (`invalid-transcript`).",
        responses=problems(*WITH_BODY, *AGENT_REFUSALS),
    )
    async def add_transcript(
        self,
        request: AgentRequest,
        interview_id: FromPath[uuid.UUID],
        runtime: NamedDependency[Runtime],
        data: JSONBody[TranscriptBatch],
    ) -> TranscriptReceipt:
        grace = runtime.settings.agent_report_grace_seconds
        return await write_transcript(runtime.database, request.user, interview_id, data, grace)

    @put(
        "/{interview_id:uuid}/report",
        status_code=200,
        summary="Store the report (the highest version wins)",
        description="409: the interview takes no more writes (expired, or ended over AGENT_REPORT_GRACE_SECONDS ago).",
        responses=problems(*WITH_BODY, *AGENT_REFUSALS),
    )
    async def put_report(
        self,
        request: AgentRequest,
        interview_id: FromPath[uuid.UUID],
        runtime: NamedDependency[Runtime],
        data: JSONBody[ReportWrite],
    ) -> ReportReceipt:
        grace = runtime.settings.agent_report_grace_seconds
        return await write_report(runtime.database, request.user, interview_id, data, grace)
