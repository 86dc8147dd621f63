"""The recruiters' API, `/api/org/*`: templates, invites, their interviews (review and decisions), and the admins'
(`admin_routes`); the candidate's side of an invite is `candidate_routes`."""

import uuid
from typing import Annotated, Literal

from litestar import Controller, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from libs.common.openapi import WITH_BODY, problems
from services.sessions.interviews.reads import TranscriptPage
from services.sessions.interviews.routes import (
    NO_STORE,
    SIGNED_IN,
    AuthedRequest,
    InterviewStatus,
)
from services.sessions.organizations.access import Recruiter, recruiter_of
from services.sessions.organizations.admin_routes import OrganizationController
from services.sessions.organizations.decision_store import Decision
from services.sessions.organizations.invite_store import InviteState
from services.sessions.organizations.invites import (
    CreatedInvite,
    InviteCreate,
    InvitePage,
    create_invite,
    list_invites,
    revoke_invite,
)
from services.sessions.organizations.review import (
    DecisionWrite,
    OrgInterviewDetail,
    OrgInterviewPage,
    decide,
    list_org_interviews,
    read_org_interview,
    read_org_recording,
    read_org_transcript,
)
from services.sessions.organizations.review_store import DeletedInterview
from services.sessions.organizations.template_store import Template
from services.sessions.organizations.templates import (
    TemplatePage,
    TemplateWrite,
    archive_template,
    create_template,
    list_templates,
    read_template,
    update_template,
)
from services.sessions.recordings.playback import RecordingLink
from services.sessions.runtime import Runtime

RECRUITER = SIGNED_IN
"""Every `/api/org/*` route's: 403 also without an active organization, or for a role that does not recruit."""
Limit = Annotated[int, QueryParameter(ge=1, le=100)]


def _recruiter(request: AuthedRequest, runtime: NamedDependency[Runtime]) -> Recruiter:
    return recruiter_of(request.user, runtime.settings.recruiter_roles)


class TemplatesController(Controller):
    path = "/templates"
    tags = ("organizations",)

    @post("/", summary="Write a new template (version 1)", responses=problems(*WITH_BODY, *RECRUITER))
    async def create(
        self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime], data: JSONBody[TemplateWrite]
    ) -> Template:
        return await create_template(runtime.database, runtime.settings, recruiter, data)

    @get("/", summary="The organization's templates, newest first", responses=problems(400, *RECRUITER))
    async def list_all(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        cursor: FromQuery[str | None] = None,
        limit: Limit = 20,
        archived: Annotated[bool, QueryParameter(description="List archived templates too.")] = False,
    ) -> TemplatePage:
        return await list_templates(runtime.database, recruiter, archived=archived, cursor=cursor, limit=limit)

    @get(
        "/{template_id:uuid}",
        summary="A template at its latest version, or at `?version=n`",
        responses=problems(400, *RECRUITER, 404),
    )
    async def read(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        template_id: FromPath[uuid.UUID],
        version: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        return await read_template(runtime.database, recruiter, template_id, version)

    @put(
        "/{template_id:uuid}",
        summary="Write the template's next version (the earlier ones are kept as they were)",
        description="409: the template is archived.",
        responses=problems(*WITH_BODY, *RECRUITER, 404, 409),
    )
    async def update(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        template_id: FromPath[uuid.UUID],
        data: JSONBody[TemplateWrite],
    ) -> Template:
        return await update_template(runtime.database, runtime.settings, recruiter, template_id, data)

    @delete(
        "/{template_id:uuid}",
        status_code=204,
        summary="Archive the template: no new invite; its unredeemed invites answer 410; its interviews stay",
        responses=problems(*RECRUITER, 404),
    )
    async def archive(
        self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime], template_id: FromPath[uuid.UUID]
    ) -> None:
        await archive_template(runtime.database, recruiter, template_id)

    @post(
        "/{template_id:uuid}/invites",
        summary="Invite one candidate: the code and its link are shown this once",
        description="409: the template is archived.",
        cache_control=NO_STORE,
        responses=problems(*WITH_BODY, *RECRUITER, 404, 409),
    )
    async def invite(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        template_id: FromPath[uuid.UUID],
        data: JSONBody[InviteCreate | None] = None,
    ) -> CreatedInvite:
        request = data or InviteCreate()
        url_template = runtime.settings.invite_url_template
        return await create_invite(runtime.database, recruiter, template_id, request, url_template)


class InvitesController(Controller):
    path = "/invites"
    tags = ("organizations",)

    @get(
        "/", summary="The organization's invites (never their codes), newest first", responses=problems(400, *RECRUITER)
    )
    async def list_all(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        *,
        template_id: FromQuery[uuid.UUID | None] = None,
        invite_state: Annotated[InviteState | None, QueryParameter(name="state")] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = 20,
    ) -> InvitePage:
        return await list_invites(
            runtime.database, recruiter, template_id=template_id, state=invite_state, cursor=cursor, limit=limit
        )

    @delete(
        "/{invite_id:uuid}",
        status_code=204,
        summary="Revoke an invite: its link answers 410 from now on",
        description="409: the invite was used (its interview is its candidate's).",
        responses=problems(*RECRUITER, 404, 409),
    )
    async def revoke(
        self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime], invite_id: FromPath[uuid.UUID]
    ) -> None:
        await revoke_invite(runtime.database, recruiter, invite_id)


class OrgInterviewsController(Controller):
    path = "/interviews"
    tags = ("organizations",)

    @get("/", summary="The organization's interviews, newest first", responses=problems(400, *RECRUITER))
    async def list_all(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        *,
        template_id: FromQuery[uuid.UUID | None] = None,
        status: Annotated[
            list[InterviewStatus | Literal["deleted"]] | None,
            QueryParameter(description="Only these statuses (repeatable; `deleted`: the tombstones)."),
        ] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = 20,
    ) -> OrgInterviewPage:
        statuses = tuple(status) if status else None
        return await list_org_interviews(
            runtime.database, recruiter, template_id=template_id, statuses=statuses, cursor=cursor, limit=limit
        )

    @get(
        "/{interview_id:uuid}",
        summary="One of the organization's interviews: the agent's report (author ai), consents, decisions",
        description="Each read is recorded in the organization's access log. An interview its candidate deleted, or "
        "retention erased, answers its tombstone: `{id, status: deleted, deleted_by, deleted_at}`.",
        responses=problems(*RECRUITER, 404),
    )
    async def read(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        interview_id: FromPath[uuid.UUID],
    ) -> OrgInterviewDetail | DeletedInterview:
        return await read_org_interview(runtime.database, recruiter, interview_id)

    @get(
        "/{interview_id:uuid}/transcript",
        summary="One of the organization's interviews' transcript, in order",
        responses=problems(400, *RECRUITER, 404),
    )
    async def transcript(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        interview_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> TranscriptPage:
        return await read_org_transcript(runtime.database, recruiter, interview_id, cursor, limit)

    @get(
        "/{interview_id:uuid}/recording",
        summary="A short-lived link to hear one of the organization's interviews",
        description="`url` is a presigned GET valid `RECORDING_URL_SECONDS` (`expires_at`), never stored: fetch a new "
        "one each time. 404: no recording (never recorded, refused, failed, or erased); 409: still being recorded.",
        cache_control=NO_STORE,
        responses=problems(*RECRUITER, 404, 409),
    )
    async def recording(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        interview_id: FromPath[uuid.UUID],
    ) -> RecordingLink:
        return await read_org_recording(runtime, recruiter, interview_id)

    @post(
        "/{interview_id:uuid}/decisions",
        status_code=201,
        summary="Record your decision on the interview (advance, reject, hold), with its reason",
        description="Appended with you and the time, never overwriting the agent's report or an earlier decision. "
        "409 `review-first`: you have not read its transcript or heard its recording yourself (its detail does not "
        "count). 422: a reason empty or over 2 KiB.",
        responses=problems(*WITH_BODY, *RECRUITER, 404, 409),
    )
    async def decide(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        interview_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionWrite],
    ) -> Decision:
        return await decide(runtime.database, recruiter, interview_id, data)


org_router = Router(
    path="/org",
    route_handlers=[TemplatesController, InvitesController, OrgInterviewsController, OrganizationController],
    dependencies={"recruiter": Provide(_recruiter, sync_to_thread=False)},
)
