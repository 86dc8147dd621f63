"""The organizations' API: recruiters' `/api/org/*` (templates, invites, their interviews) and the candidate's
`/api/invites/connection-details`."""

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
    START_REFUSALS,
    AuthedRequest,
    ConnectionDetails,
    InterviewStatus,
)
from services.sessions.organizations.access import Recruiter, admin_of, recruiter_of
from services.sessions.organizations.access_log import AccessPage, list_access
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
from services.sessions.organizations.org_settings import OrgSettings, OrgSettingsWrite, read_settings, write_settings
from services.sessions.organizations.redemption import (
    InvitePreview,
    PreviewRequest,
    RedeemRequest,
    preview_invite,
    redeem_invite,
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


class OrganizationController(Controller):
    path = "/"
    tags = ("organizations",)

    @get("/settings", summary="The organization's settings (retention)", responses=problems(*RECRUITER))
    async def settings(self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime]) -> OrgSettings:
        return await read_settings(runtime.database, recruiter)

    @put(
        "/settings",
        summary="Set how long the organization's interviews are kept after they end (admins)",
        description="`retention_days` 1..3650, or null to keep them. 403 for a role not in ORG_ADMIN_ROLES.",
        responses=problems(*WITH_BODY, *RECRUITER),
    )
    async def write_settings(
        self, recruiter: NamedDependency[Recruiter], runtime: NamedDependency[Runtime], data: JSONBody[OrgSettingsWrite]
    ) -> OrgSettings:
        admin = admin_of(recruiter, runtime.settings.admin_roles)
        return await write_settings(runtime.database, admin, data)

    @get(
        "/access-log",
        summary="Who read what of the organization's interviews, newest first (admins)",
        responses=problems(400, *RECRUITER),
    )
    async def access_log(
        self,
        recruiter: NamedDependency[Recruiter],
        runtime: NamedDependency[Runtime],
        *,
        interview_id: FromQuery[uuid.UUID | None] = None,
        actor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        cursor: FromQuery[str | None] = None,
        limit: Limit = 50,
    ) -> AccessPage:
        admin = admin_of(recruiter, runtime.settings.admin_roles)
        return await list_access(
            runtime.database, admin, interview_id=interview_id, actor=actor, cursor=cursor, limit=limit
        )


org_router = Router(
    path="/org",
    route_handlers=[TemplatesController, InvitesController, OrgInterviewsController, OrganizationController],
    dependencies={"recruiter": Provide(_recruiter, sync_to_thread=False)},
)


@post(
    "/invites/connection-details",
    status_code=200,
    tags=["organizations", "interviews"],
    summary="Redeem an invite: its interview's connection details (started on first use, yours again after)",
    description="A first redemption needs `consent` (`POST /api/invites/preview` shows the notice): "
    "`ai_evaluation: true` for the `template_version` read, `recording` as the candidate chose. Without it: 409 "
    "`consent-required`, its body carrying `template_version` and the `template` (title, notice, recording, "
    "max_minutes) to show, and a refusal (`ai_evaluation: false`) is recorded for the recruiters (`declined`). "
    "404: no invite has this code; 403: it is someone else's (bound to another user, or naming another email than "
    "your verified primary email); 410: expired, revoked, or its template archived; 409 `interview-ended`: its "
    "interview has ended; 429: you hold MAX_OPEN_INTERVIEWS_PER_USER open interviews. The code goes in the body, "
    "never in a URL.",
    cache_control=NO_STORE,
    responses=problems(*WITH_BODY, *START_REFUSALS, 404, 409, 410),
)
async def redeem(
    request: AuthedRequest, runtime: NamedDependency[Runtime], data: JSONBody[RedeemRequest]
) -> ConnectionDetails:
    return ConnectionDetails.of(await redeem_invite(runtime, request.user, data))


@post(
    "/invites/preview",
    status_code=200,
    tags=["organizations", "interviews"],
    summary="What redeeming an invite asks you to agree to: its template's notice, version and recording",
    description="Binds and creates nothing. The redemption's refusals: 404 no invite has this code; 403 someone "
    "else's; 410 expired, revoked or archived. A template without a notice of its own shows the service's default.",
    responses=problems(*WITH_BODY, *SIGNED_IN, 404, 410),
)
async def preview(
    request: AuthedRequest, runtime: NamedDependency[Runtime], data: JSONBody[PreviewRequest]
) -> InvitePreview:
    return await preview_invite(runtime, request.user, data)
