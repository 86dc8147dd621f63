"""The frontend's API: start an interview (two LiveKit-compatible shapes), list and read interviews."""

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from libs.common.openapi import WITH_BODY, problems
from services.sessions.auth.tokens import ClerkSession
from services.sessions.consents.store import Scope
from services.sessions.consents.withdrawal import withdraw_consent
from services.sessions.interviews.reads import (
    LISTED_BY_DEFAULT,
    InterviewDetail,
    InterviewPage,
    TranscriptPage,
    list_interviews,
    read_interview,
    read_recording,
    read_transcript,
)
from services.sessions.interviews.starts import StartedInterview, StartRequest, start_interview
from services.sessions.recordings.playback import RecordingLink
from services.sessions.runtime import Runtime

AuthedRequest = Request[ClerkSession, None, Any]
InterviewStatus = Literal["created", "active", "ended", "expired"]


class ConnectionDetailsRequest(msgspec.Struct, frozen=True, kw_only=True):
    room_config: dict[str, Any] | None = None


class ConnectionDetails(msgspec.Struct, frozen=True, rename="camel"):
    """The shape LiveKit's agent-starter frontends expect from their connection-details route."""

    server_url: str
    room_name: str
    participant_name: str
    participant_token: str

    @classmethod
    def of(cls, started: StartedInterview) -> "ConnectionDetails":
        return cls(started.server_url, started.room_name, started.participant_name, started.participant_token)


class TokenResponse(msgspec.Struct, frozen=True):
    """LiveKit's standardized token endpoint response."""

    server_url: str
    participant_token: str


SIGNED_IN = (401, 403, 503)
"""What every `/api/*` route can answer: no valid session token, a cookie from elsewhere, the database down."""
START_REFUSALS = (*SIGNED_IN, 429)
"""A start's own: 403 also for a user Clerk deleted, banned or locked, or a field the caller may not set; 429 at
`MAX_OPEN_INTERVIEWS_PER_USER`; 503 also for identity unavailable."""

NO_STORE = CacheControlHeader(no_store=True)  # a token must not be kept by a cache on the way


class LiveKitController(Controller):
    path = "/livekit"
    tags = ("interviews",)

    @post(
        "/connection-details",
        status_code=200,
        summary="Start an interview (agent-starter frontends)",
        cache_control=NO_STORE,
        responses=problems(*WITH_BODY, *START_REFUSALS),
    )
    async def connection_details(
        self,
        request: AuthedRequest,
        runtime: NamedDependency[Runtime],
        data: JSONBody[ConnectionDetailsRequest | None] = None,
    ) -> ConnectionDetails:
        asked = StartRequest(room_config=data.room_config if data else None)
        return ConnectionDetails.of(await start_interview(runtime, request.user, asked))

    @post(
        "/token",
        status_code=201,
        summary="LiveKit's standardized token endpoint: start or rejoin",
        description="409: `room_name` names one of your interviews that has ended or expired.",
        cache_control=NO_STORE,
        responses=problems(*WITH_BODY, *START_REFUSALS, 409),
    )
    async def token(
        self,
        request: AuthedRequest,
        runtime: NamedDependency[Runtime],
        data: JSONBody[StartRequest | None] = None,
    ) -> TokenResponse:
        started = await start_interview(runtime, request.user, data or StartRequest())
        return TokenResponse(server_url=started.server_url, participant_token=started.participant_token)


class InterviewsController(Controller):
    path = "/interviews"
    tags = ("interviews",)

    @get("/", summary="Your interviews, newest first", responses=problems(400, *SIGNED_IN))
    async def list_mine(
        self,
        request: AuthedRequest,
        runtime: NamedDependency[Runtime],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        status: Annotated[
            list[InterviewStatus] | None,
            QueryParameter(description="Only these statuses (repeatable); default: all but expired."),
        ] = None,
    ) -> InterviewPage:
        statuses = tuple(status) if status else LISTED_BY_DEFAULT
        return await list_interviews(
            runtime.database, request.user.user_id, statuses=statuses, cursor=cursor, limit=limit
        )

    @get(
        "/{interview_id:uuid}",
        summary="One of your interviews, with its agent's report",
        responses=problems(*SIGNED_IN, 404),
    )
    async def read_mine(
        self, request: AuthedRequest, interview_id: FromPath[uuid.UUID], runtime: NamedDependency[Runtime]
    ) -> InterviewDetail:
        return await read_interview(runtime.database, request.user.user_id, interview_id)

    @get(
        "/{interview_id:uuid}/transcript",
        summary="Your interview's transcript, in order",
        responses=problems(400, *SIGNED_IN, 404),
    )
    async def read_transcript(
        self,
        request: AuthedRequest,
        interview_id: FromPath[uuid.UUID],
        runtime: NamedDependency[Runtime],
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> TranscriptPage:
        return await read_transcript(runtime.database, request.user.user_id, interview_id, cursor, limit)

    @get(
        "/{interview_id:uuid}/recording",
        summary="A short-lived link to hear your interview",
        description="`url` is a presigned GET valid `RECORDING_URL_SECONDS` (`expires_at`), never stored. 404: no "
        "recording (never recorded, refused, failed, or erased); 409: still being recorded.",
        cache_control=NO_STORE,
        responses=problems(*SIGNED_IN, 404, 409),
    )
    async def read_recording(
        self, request: AuthedRequest, interview_id: FromPath[uuid.UUID], runtime: NamedDependency[Runtime]
    ) -> RecordingLink:
        return await read_recording(runtime, request.user.user_id, interview_id)

    @delete(
        "/{interview_id:uuid}/consent/{consent_scope:str}",
        status_code=204,
        summary="Withdraw a consent: the recording (stopped and erased) or the AI's evaluation (its report erased)",
        description="Idempotent. The scope is `recording` or `ai_evaluation`; any other is 400.",
        responses=problems(400, *SIGNED_IN, 404),
    )
    async def withdraw_consent(
        self,
        request: AuthedRequest,
        interview_id: FromPath[uuid.UUID],
        consent_scope: FromPath[Scope],
        runtime: NamedDependency[Runtime],
    ) -> None:
        await withdraw_consent(runtime.database, request.user.user_id, interview_id, consent_scope)
