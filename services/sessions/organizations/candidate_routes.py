"""The candidate's side of an invite: preview what it asks agreement to, and redeem it (`/api/invites/*`)."""

from litestar import post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from libs.common.openapi import WITH_BODY, problems
from services.sessions.interviews.routes import (
    NO_STORE,
    SIGNED_IN,
    START_REFUSALS,
    AuthedRequest,
    ConnectionDetails,
)
from services.sessions.organizations.redemption import (
    InvitePreview,
    PreviewRequest,
    RedeemRequest,
    preview_invite,
    redeem_invite,
)
from services.sessions.runtime import Runtime


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
