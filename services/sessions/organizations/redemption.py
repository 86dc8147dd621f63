"""A candidate redeems an invite: the code travels in the body of `POST /api/invites/connection-details` (never in
an API URL, which proxies log), and the first use binds the invite to that user and starts the interview for the
template's current version, in the inviting organization. The same user again gets that interview back, with a
new token, until it ends; anyone else is refused, and so is every refusal's caller, with nothing created.

Before identity is asked anything, the invite is looked up by its code's hash: an unknown, used-by-another, or
closed invite is refused at once. A first use then asks identity for the user's primary email as Clerk's own data
says it, verified (never an email only the session token's claims assert: an app may map that claim to anything;
identity asks Clerk when it holds none), which an invite naming one must match, ASCII case aside, and redeems in
one statement (`invite_store.redeem`), which checks everything again under the organization's lock (its erasure
waits, or came first and the invite is gone) and the invite's: of simultaneous first uses, exactly one binds it.
"""

import time
import uuid
from typing import Annotated

import msgspec

from libs.common.errors import Problem
from libs.common.request_context import annotate_request
from services.sessions.auth.tokens import ClerkSession
from services.sessions.consents.notice import notice_of
from services.sessions.errors import (
    ConsentRequired,
    IdentityUnavailable,
    InterviewEnded,
    InviteForSomeoneElse,
    InviteGone,
    InviteNotFound,
    UserNotAllowed,
)
from services.sessions.interviews.room_policy import AgentChoice, PinnedTemplate, room_configuration
from services.sessions.interviews.starts import StartedInterview, StartRequest, at_cap_refusal, mint
from services.sessions.metrics import CONSENTS, INTERVIEWS_CREATED, INVITES
from services.sessions.organizations import invite_store
from services.sessions.organizations.invite_store import GivenConsent, NoticedTemplate
from services.sessions.organizations.invites import code_hash
from services.sessions.rooms.names import room_name_for
from services.sessions.runtime import Runtime
from services.sessions.users.confirmation import confirm_user, recent_or_confirmed_user
from services.sessions.users.known_store import KnownUser

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class RedeemRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The invite's code, as its link carries it, and the candidate's answer to its notice (`POST
    /api/invites/preview` shows it): a first redemption needs `consent.ai_evaluation` true for the version they
    read; later ones (coming back to the interview) need none. Anything else a client sends (`room_config`, say)
    is ignored: the template decides the interview."""

    code: Code
    consent: GivenConsent | None = None


class PreviewRequest(msgspec.Struct, frozen=True, kw_only=True):
    code: Code


class PreviewOrganization(msgspec.Struct, frozen=True):
    id: str


class InvitePreview(msgspec.Struct, frozen=True, kw_only=True):
    """What the candidate is asked to agree to: the template's latest version, its notice (the service's default
    notice when the template has none of its own) and whether it records."""

    organization: PreviewOrganization
    template: NoticedTemplate


_REFUSALS: dict[str, tuple[type[Problem], str]] = {
    "unknown": (InviteNotFound, "No invite has this code."),
    "other_user": (InviteForSomeoneElse, "This invite was used by someone else."),
    "email_mismatch": (
        InviteForSomeoneElse,
        "This invite is for another email address than your account's verified primary email.",
    ),
    "revoked": (InviteGone, "This invite was withdrawn."),
    "expired": (InviteGone, "This invite has expired."),
    "archived": (InviteGone, "This invite's interview is no longer offered."),
    "ended": (InterviewEnded, "The interview of this invite has ended."),
}
_COUNTED = {"unknown": "unknown_code", "started": "redeemed"}
_CONSENT_DETAIL = {
    "consent_required": "Starting this interview needs your consent to the AI's evaluation of the template version "
    "you read: send `consent` with its `template_version` (in this body) and `ai_evaluation: true`.",
    "declined": "You declined the AI's evaluation: no interview was started, and the organization was told so. You "
    "may still consent while the invite is valid.",
}


def _refused(outcome: str, *, counted: bool = True) -> Problem:
    """The refusal's problem; counted as a redemption's outcome unless it answers a preview."""
    if counted:
        INVITES.labels(_COUNTED.get(outcome, outcome)).inc()
    problem, detail = _REFUSALS[outcome]
    return problem(detail)


def _noticed(template: NoticedTemplate) -> NoticedTemplate:
    return msgspec.structs.replace(template, notice=notice_of(template.notice))


def consent_required(template: NoticedTemplate, detail: str) -> ConsentRequired:
    """409 `consent-required`, carrying what a frontend needs to show the notice and ask again."""
    noticed = _noticed(template)
    return ConsentRequired(
        detail, extra={"template_version": noticed.version, "template": msgspec.to_builtins(noticed)}
    )


async def _open_invite(
    runtime: Runtime, session: ClerkSession, hashed: bytes, *, counted: bool
) -> tuple[invite_store.InviteLookup, KnownUser]:
    """The invite, if the caller may have it (else the redemption's refusal, nothing written), and the caller as
    identity knows them: now, with the verified primary email, for a first use (an invite may name that email, and
    its recruiters see it); recently enough for a candidate coming back to their interview."""
    clerk_id = session.user_id
    async with runtime.database.connection() as conn:
        found = await invite_store.look_up(conn, hashed)
    if found is None:
        raise _refused("unknown", counted=counted)
    if found.used and found.redeemed_by != clerk_id:
        raise _refused("other_user", counted=counted)
    if not found.used and found.closed is not None:
        raise _refused(found.closed, counted=counted)
    if found.used:
        return found, await recent_or_confirmed_user(runtime, session)
    user = await confirm_user(runtime, session, verified_email=True)
    if found.names_email and not (user.answered_now and user.email_known):
        raise IdentityUnavailable("Clerk cannot confirm your email address now; retry shortly.")
    return found, user


async def preview_invite(runtime: Runtime, session: ClerkSession, request: PreviewRequest) -> InvitePreview:
    """What redeeming the invite would ask the caller to agree to; the redemption's own refusals (404, 410, 403),
    and nothing bound or created."""
    hashed = code_hash(request.code)
    found, user = await _open_invite(runtime, session, hashed, counted=False)
    if found.names_email and not found.used:
        async with runtime.database.connection() as conn:
            if not await invite_store.opens_for_email(conn, hashed, user.email):
                raise _refused("email_mismatch", counted=False)
    return InvitePreview(organization=PreviewOrganization(found.org_id), template=_noticed(found.template))


async def redeem_invite(runtime: Runtime, session: ClerkSession, request: RedeemRequest) -> StartedInterview:
    """The invite's interview for the caller: started now on first use (with their consent), else theirs handed
    back."""
    clerk_id, database, settings = session.user_id, runtime.database, runtime.settings
    hashed = code_hash(request.code)
    found, user = await _open_invite(runtime, session, hashed, counted=True)
    new_id = uuid.uuid4()
    issued_at = int(time.time())
    new = invite_store.NewRedemption(
        interview_id=new_id,
        clerk_id=clerk_id,
        room_name=room_name_for(new_id),
        token_expires_at=runtime.tokens.expiry(issued_at),
        cap=settings.max_open_interviews_per_user,
        default_agent=settings.livekit_default_agent or None,
        consent=request.consent,
    )
    async with database.connection() as conn:
        redeemed = await invite_store.redeem(
            conn,
            hashed,
            new,
            user_id=user.user_id,
            display_name=user.display_name,
            email=user.email,
            answered_now=user.answered_now,
        )
    outcome = redeemed.outcome
    if outcome == "deleted":
        raise UserNotAllowed.deleted(clerk_id)
    if outcome == "at_cap":
        INVITES.labels("at_cap").inc()
        raise await at_cap_refusal(runtime, clerk_id)
    if outcome in ("consent_required", "declined"):
        INVITES.labels(outcome).inc()
        if outcome == "declined":
            CONSENTS.labels("ai_evaluation", "refused").inc()
        assert redeemed.template_version is not None
        latest = msgspec.structs.replace(found.template, version=redeemed.template_version)
        raise consent_required(latest, _CONSENT_DETAIL[outcome])
    if outcome in _REFUSALS:
        raise _refused(outcome)
    INVITES.labels(_COUNTED.get(outcome, outcome)).inc()
    if outcome == "started":
        INTERVIEWS_CREATED.inc()
        CONSENTS.labels("ai_evaluation", "given").inc()
    assert redeemed.interview_id is not None
    assert redeemed.room_name is not None
    assert redeemed.template_id is not None
    assert redeemed.template_version is not None
    annotate_request(interview_id=str(redeemed.interview_id), outcome=outcome)
    agent = AgentChoice(redeemed.agent_name) if redeemed.agent_name else None
    template = PinnedTemplate(redeemed.template_id, redeemed.template_version)
    return mint(
        runtime,
        clerk_id,
        StartRequest(),
        room_name=redeemed.room_name,
        display_name=redeemed.user_name or user.display_name,
        config=room_configuration(agent, redeemed.interview_id, clerk_id, template),
        issued_at=issued_at,
    )
