"""The candidate's rights over HTTP: `DELETE /api/interviews/{id}` and `GET /api/me/export`."""

import uuid
from typing import Any

from litestar import Request, delete, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from libs.common.openapi import problems
from services.sessions.auth.tokens import ClerkSession
from services.sessions.rights.deletion import delete_interview
from services.sessions.rights.export import export_document
from services.sessions.runtime import Runtime

AuthedRequest = Request[ClerkSession, None, Any]


@delete(
    "/interviews/{interview_id:uuid}",
    status_code=204,
    tags=["interviews"],
    summary="Delete one of your interviews, with everything of it",
    description="A live one's room is closed to you first. Its transcript, report, decisions, recording and "
    "consents go; an organization keeps only a tombstone (`deleted_by: candidate`). Idempotent; another user's "
    "interview is 404 and untouched.",
    responses=problems(401, 403, 404, 503),
)
async def delete_mine(
    request: AuthedRequest, interview_id: FromPath[uuid.UUID], runtime: NamedDependency[Runtime]
) -> None:
    await delete_interview(runtime.database, request.user.user_id, interview_id)


@get(
    "/me/export",
    tags=["interviews"],
    summary="A copy of everything held about you, as one JSON document (a download)",
    description="Your interviews with their status and times, transcripts, the reports you may read, your "
    "consents, who read each (by role) and whether a recording is kept. Streamed: any length of history.",
    cache_control=CacheControlHeader(no_store=True),
    responses=problems(401, 403, 503),
)
async def export_mine(request: AuthedRequest, runtime: NamedDependency[Runtime]) -> Stream:
    return Stream(
        export_document(runtime.database, request.user.user_id),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-interviews.json"'},
    )
