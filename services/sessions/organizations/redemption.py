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
from services.sessions.errors import (
    IdentityUnavailable,
    InterviewEnded,
    InviteForSomeoneElse,
    InviteGone,
    InviteNotFound,
    UserNotAllowed,
)
from services.sessions.interviews.room_policy import AgentChoice, PinnedTemplate, room_configuration
from services.sessions.interviews.starts import StartedInterview, StartRequest, at_cap_refusal, mint
from services.sessions.metrics import INTERVIEWS_CREATED, INVITES
from services.sessions.organizations import invite_store
from services.sessions.organizations.invites import code_hash
from services.sessions.rooms.names import room_name_for
from services.sessions.runtime import Runtime
from services.sessions.users.confirmation import confirm_user, recent_or_confirmed_user


class RedeemRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The invite's code, as its link carries it. Anything else a client sends (`room_config`, say) is ignored:
    the template decides the interview."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


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


def _refused(outcome: str) -> Problem:
    INVITES.labels(_COUNTED.get(outcome, outcome)).inc()
    problem, detail = _REFUSALS[outcome]
    return problem(detail)


async def redeem_invite(runtime: Runtime, session: ClerkSession, request: RedeemRequest) -> StartedInterview:
    """The invite's interview for the caller: started now on first use, else theirs handed back."""
    clerk_id, database, settings = session.user_id, runtime.database, runtime.settings
    hashed = code_hash(request.code)
    async with database.connection() as conn:
        found = await invite_store.look_up(conn, hashed)
    if found is None:
        raise _refused("unknown")
    if found.used and found.redeemed_by != clerk_id:
        raise _refused("other_user")
    if not found.used and found.closed is not None:
        raise _refused(found.closed)
    # A first use needs identity's answer now (the verified primary email an invite may name, and the one its
    # recruiters see); a candidate coming back to their interview does not.
    if found.used:
        user = await recent_or_confirmed_user(runtime, session)
    else:
        user = await confirm_user(runtime, session, verified_email=True)
    if found.names_email and not found.used and not (user.answered_now and user.email_known):
        raise IdentityUnavailable("Clerk cannot confirm your email address now; retry shortly.")
    new_id = uuid.uuid4()
    issued_at = int(time.time())
    new = invite_store.NewRedemption(
        interview_id=new_id,
        clerk_id=clerk_id,
        room_name=room_name_for(new_id),
        token_expires_at=runtime.tokens.expiry(issued_at),
        cap=settings.max_open_interviews_per_user,
        default_agent=settings.livekit_default_agent or None,
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
    if outcome in _REFUSALS:
        raise _refused(outcome)
    INVITES.labels(_COUNTED.get(outcome, outcome)).inc()
    if outcome == "started":
        INTERVIEWS_CREATED.inc()
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
