"""Starting (or rejoining) an interview: the sessions service's hot path.

A start is: the user as identity confirmed them (recently, or asked now over the ensure-user RPC), the
interview recorded within the user's cap in one statement, then its token minted (local signing of checked
input, which cannot fail). Identity failing or refusing leaves no row. A user holds at most
`MAX_OPEN_INTERVIEWS_PER_USER` open interviews; a rejoin (a fresh token for one of them) never counts, and a
start by a user holding an unused interview (created, never joined) for the same agent gets that one back with
a fresh token: clients fetch a token on every page load, so reloads and crashed tabs never pile up interviews.
"""

import time
import uuid
from typing import Any

import msgspec
from livekit.api import RoomConfiguration

from libs.common.request_context import annotate_request
from services.sessions.auth.tokens import ClerkSession
from services.sessions.errors import (
    ForbiddenParticipant,
    InterviewEnded,
    TooManyOpenInterviews,
    UserNotAllowed,
)
from services.sessions.interviews import store as interview_store
from services.sessions.interviews.participant_fields import check_attributes, check_metadata, check_name
from services.sessions.interviews.room_policy import AgentChoice, PinnedTemplate, requested_agent, room_configuration
from services.sessions.interviews.store import Interview, NewInterview, Start
from services.sessions.metrics import INTERVIEWS_CREATED, INTERVIEWS_REFUSED_AT_CAP, INTERVIEWS_REUSED
from services.sessions.rooms.names import is_interview_room, room_name_for
from services.sessions.runtime import Runtime
from services.sessions.users.confirmation import confirm_user, recent_or_confirmed_user
from services.sessions.users.feeds import CURRENT_SECONDS as FEED_CURRENT_SECONDS
from services.sessions.users.known_store import KnownUser


class StartRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a client may ask for when starting or rejoining; anything it may not set is refused."""

    room_name: str | None = None
    participant_identity: str | None = None
    participant_name: str | None = None
    participant_metadata: str | None = None
    participant_attributes: dict[str, str] | None = None
    room_config: dict[str, Any] | None = None


class StartedInterview(msgspec.Struct, frozen=True, kw_only=True):
    server_url: str
    room_name: str
    participant_name: str
    participant_token: str


async def start_interview(runtime: Runtime, session: ClerkSession, request: StartRequest) -> StartedInterview:
    """A token for a new interview in a fresh room, or, when `request.room_name` names one of the caller's
    own interviews, a fresh token for it (rejoin) without a new row."""
    clerk_id = session.user_id
    if request.participant_identity not in (None, clerk_id):
        raise ForbiddenParticipant("participant_identity must be your own user id.")
    check_name("participant_name", request.participant_name)
    check_metadata("participant_metadata", request.participant_metadata)
    check_attributes("participant_attributes", request.participant_attributes)
    settings = runtime.settings
    agent = requested_agent(request.room_config, settings.allowed_agents, settings.livekit_default_agent)
    if request.room_name is not None:
        return await _rejoin(runtime, session, request, agent)
    issued_at = int(time.time())  # the token's and the interview's: its `exp` never passes the recorded expiry
    expires_at = runtime.tokens.expiry(issued_at)
    new_id = uuid.uuid4()
    new = NewInterview(
        id=new_id,
        clerk_id=clerk_id,
        room_name=room_name_for(new_id),
        agent_name=agent.name if agent else None,
        token_expires_at=expires_at,
    )
    interview_id, room_name, display_name = await _record_start(runtime, session, new)
    return mint(
        runtime,
        clerk_id,
        request,
        room_name=room_name,
        display_name=display_name,
        config=room_configuration(agent, interview_id, clerk_id),
        issued_at=issued_at,
    )


async def _rejoin(
    runtime: Runtime, session: ClerkSession, request: StartRequest, asked: AgentChoice | None
) -> StartedInterview:
    """A fresh token for one of the caller's open interviews, for the agent and template it started with."""
    clerk_id, room_name = session.user_id, request.room_name
    if room_name is None or not is_interview_room(room_name):
        raise ForbiddenParticipant("room_name must be one of your own interviews.")
    async with runtime.database.connection() as conn:
        rejoining = await interview_store.find_owned(conn, clerk_id, room_name=room_name)
    if rejoining is None:
        raise ForbiddenParticipant("room_name must be one of your own interviews.")
    if rejoining.status in ("ended", "expired"):
        raise InterviewEnded(f"Interview room {rejoining.room_name} has {rejoining.status}; start a new one.")
    user = await recent_or_confirmed_user(runtime, session)
    issued_at = int(time.time())
    async with runtime.database.connection() as conn:
        await interview_store.extend_token(conn, rejoining.id, runtime.tokens.expiry(issued_at))
    annotate_request(interview_id=str(rejoining.id), outcome="rejoined")
    template = pinned_template(rejoining)
    if template is not None:  # an organization's interview: the template decides, the candidate adds no text
        request = msgspec.structs.replace(request, participant_metadata=None, participant_attributes=None)
    metadata = asked.metadata if asked is not None and asked.name == rejoining.agent_name else None
    agent = AgentChoice(rejoining.agent_name, metadata) if rejoining.agent_name else None
    return mint(
        runtime,
        clerk_id,
        request,
        room_name=rejoining.room_name,
        display_name=user.display_name,
        config=room_configuration(agent, rejoining.id, clerk_id, template),
        issued_at=issued_at,
    )


async def at_cap_refusal(runtime: Runtime, clerk_id: str) -> TooManyOpenInterviews:
    """The refusal of a start (or an invite's first use) by a user holding `MAX_OPEN_INTERVIEWS_PER_USER` open
    interviews, counted, its `Retry-After` when the first of their unused ones expires (60 s if all are active)."""
    INTERVIEWS_REFUSED_AT_CAP.inc()
    async with runtime.database.connection() as conn:
        retry_after = await interview_store.seconds_until_one_closes(conn, clerk_id)
    cap = runtime.settings.max_open_interviews_per_user
    return TooManyOpenInterviews(
        f"You have {cap} open interviews; end one or rejoin it.", retry_after=retry_after or 60
    )


def pinned_template(interview: Interview) -> PinnedTemplate | None:
    if interview.template_id is None or interview.template_version is None:
        return None
    return PinnedTemplate(interview.template_id, interview.template_version)


def mint(
    runtime: Runtime,
    clerk_id: str,
    request: StartRequest,
    *,
    room_name: str,
    display_name: str,
    config: RoomConfiguration,
    issued_at: int,
) -> StartedInterview:
    """The candidate's token for `room_name` (local signing of checked input, which cannot fail), its life
    starting at `issued_at`, the second whose `expiry` the interview recorded."""
    name = request.participant_name or display_name
    token = runtime.tokens.mint(
        identity=clerk_id,
        name=name,
        room=room_name,
        room_config=config,
        metadata=request.participant_metadata,
        attributes=request.participant_attributes,
        issued_at=issued_at,
    )
    return StartedInterview(
        server_url=runtime.settings.livekit_url, room_name=room_name, participant_name=name, participant_token=token
    )


async def _record_start(runtime: Runtime, session: ClerkSession, new: NewInterview) -> tuple[uuid.UUID, str, str]:
    """Record `new` within the user's cap, on identity's recent answer about them or, without one, on its
    answer now, unless the user holds an unused interview for the same agent (handed back instead); the
    interview's id and room, and the name the user starts under."""
    settings = runtime.settings
    cap, recheck = settings.max_open_interviews_per_user, settings.identity_recheck_seconds

    async def attempt(user: KnownUser | None) -> Start:
        async with runtime.database.connection() as conn:
            return await interview_store.start_within_cap(
                conn, new, cap, user, reuse_seconds=recheck, feed_current_seconds=FEED_CURRENT_SECONDS
            )

    started = await attempt(None) if recheck else None
    if started is None or started.outcome == "unconfirmed":
        started = await attempt(await confirm_user(runtime, session))
    if started.outcome == "deleted":  # asked identity just before the users' feed brought their deletion
        raise UserNotAllowed.deleted(new.clerk_id)
    if started.outcome == "at_cap":
        raise await at_cap_refusal(runtime, new.clerk_id)
    if started.outcome == "reused":
        INTERVIEWS_REUSED.inc()
    else:
        INTERVIEWS_CREATED.inc()
    interview_id, room_name, display_name = started.interview_id, started.room_name, started.display_name
    annotate_request(interview_id=str(interview_id), outcome=started.outcome)
    assert interview_id is not None
    assert room_name is not None
    assert display_name is not None
    return interview_id, room_name, display_name
