"""The LiveKit stand-in's HTTP app.

- RoomService over Twirp, as livekit-api calls it: `POST /twirp/livekit.RoomService/<Method>` with a
  protobuf body (`application/protobuf`; or JSON, as Twirp allows and LiveKit's Node SDK sends it: answered in
  the request's encoding), a bearer JWT signed with the API secret and carrying the grant LiveKit requires per
  method, errors as Twirp's JSON `{"code", "msg"}`.
  ListRooms, DeleteRoom, ListParticipants and RemoveParticipant are served; and Egress
  (`/twirp/livekit.Egress/<Method>`: StartRoomCompositeEgress, StopEgress, ListEgress; `egress.py`), which records
  an audio-only room into the bucket its request names.
- A control API under `/_standin/` for tests and the dev stack: join a room with a participant token (as a
  client SDK would), leave, close a room, play the dispatched agent (`agent.py`), read the rooms and the
  RoomService calls made, redeliver an event, make RoomService unavailable.
- Webhooks, signed as a LiveKit server signs them (a JWT with the body's sha256, sent without `Bearer`), to
  the configured URL; any event can be recorded without delivery, as LiveKit's lossy notifier drops them.
"""

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import jwt
import msgspec
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from litestar import Litestar, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from livekit.api import AccessToken, TokenVerifier, WebhookEvent
from livekit.api.access_token import Claims, VideoGrants
from livekit.protocol.egress import ListEgressRequest, RoomCompositeEgressRequest, StopEgressRequest
from livekit.protocol.models import DisconnectReason
from livekit.protocol.room import (
    DeleteRoomRequest,
    DeleteRoomResponse,
    ListParticipantsRequest,
    ListParticipantsResponse,
    ListRoomsRequest,
    ListRoomsResponse,
    RemoveParticipantResponse,
    RoomParticipantIdentity,
)

from deploy.dev.standins.livekit.agent import AgentJob, report_interview
from deploy.dev.standins.livekit.egress import Egresses, EgressFaults, EgressRefused
from deploy.dev.standins.livekit.rooms import RoomFull, Rooms


class StandinConfig(msgspec.Struct, frozen=True, kw_only=True):
    api_key: str
    api_secret: str
    webhook_url: str | None = None


class TwirpError(Exception):
    STATUS: ClassVar[dict[str, int]] = {
        "malformed": 400,
        "unauthenticated": 401,
        "permission_denied": 403,
        "not_found": 404,
        "bad_route": 404,
        "invalid_argument": 400,
        "failed_precondition": 412,
        "resource_exhausted": 429,
        "unavailable": 503,
    }

    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg

    def response(self) -> Response[Any]:
        return Response({"code": self.code, "msg": self.msg}, status_code=self.STATUS[self.code])


@dataclass
class Standin:
    config: StandinConfig
    rooms: Rooms = field(default_factory=Rooms)
    events: dict[str, WebhookEvent] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    unavailable: bool = False
    delay_seconds: float = 0.0
    http: httpx.AsyncClient | None = None
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    egresses: Egresses = field(init=False)

    def __post_init__(self) -> None:
        self.egresses = Egresses(report=self.report)

    @property
    def verifier(self) -> TokenVerifier:
        return TokenVerifier(self.config.api_key, self.config.api_secret)

    async def report(self, events: list[WebhookEvent], *, deliver: bool = True) -> list[dict[str, Any]]:
        """Record the events and, unless `deliver` is false (a lost webhook), POST each in order."""
        receipts = []
        for event in events:
            self.events[event.id] = event
            status = await self.deliver(event) if deliver else None
            receipts.append({"id": event.id, "event": event.event, "status": status})
        return receipts

    def report_later(self, events: list[WebhookEvent]) -> None:
        """What a RoomService call causes is reported after its answer, as LiveKit's notifier does."""
        task = asyncio.create_task(self.report(events))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def deliver(self, event: WebhookEvent) -> int | None:
        if not self.config.webhook_url:
            return None
        assert self.http is not None, "used outside the app's lifespan"
        body = json_format.MessageToJson(event, indent=0).encode()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        auth = AccessToken(self.config.api_key, self.config.api_secret).with_sha256(digest).to_jwt()
        headers = {"Authorization": auth, "Content-Type": "application/webhook+json"}
        try:
            response = await self.http.post(self.config.webhook_url, content=body, headers=headers)
        except httpx.HTTPError:
            return None
        return response.status_code


def _standin(state: State) -> Standin:
    return state.standin  # type: ignore[no-any-return]


# --- RoomService (Twirp) ---------------------------------------------------------------------------------


def _parse(request_class: type[Message], body: bytes, content_type: str) -> Any:
    message = request_class()
    try:
        if content_type.startswith("application/protobuf"):
            message.ParseFromString(body)
        elif content_type.startswith("application/json"):
            json_format.Parse(body, message)
        else:
            raise TwirpError("bad_route", f"unexpected Content-Type: {content_type!r}")
    except (DecodeError, json_format.ParseError, ValueError) as error:
        raise TwirpError("malformed", f"the body is not a {request_class.__name__}") from error
    return message


def _permitted(method: str, message: Any, grants: VideoGrants) -> bool:
    """The grant LiveKit requires: roomList to list, roomCreate to delete, roomRecord for egress, roomAdmin on that
    room otherwise."""
    if method in _EGRESS_METHODS:
        return bool(grants.room_record)
    if method == "ListRooms":
        return bool(grants.room_list)
    if method == "DeleteRoom":
        return bool(grants.room_create)
    return bool(grants.room_admin) and grants.room == message.room


def _authorize(standin: Standin, request: Request[Any, Any, Any], method: str, message: Any) -> None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        raise TwirpError("unauthenticated", "no authorization header")
    try:
        claims: Claims = standin.verifier.verify(header.removeprefix("Bearer "))
    except (jwt.InvalidTokenError, ValueError) as error:
        raise TwirpError("unauthenticated", "invalid token") from error
    if claims.video is None or not _permitted(method, message, claims.video):
        raise TwirpError("permission_denied", "permissions denied")


def _list_rooms(standin: Standin, request: ListRoomsRequest) -> ListRoomsResponse:
    names = set(request.names)
    rooms = standin.rooms.rooms.values()
    return ListRoomsResponse(rooms=[room.info() for room in rooms if not names or room.name in names])


def _delete_room(standin: Standin, request: DeleteRoomRequest) -> DeleteRoomResponse:
    try:
        standin.report_later(standin.rooms.close(request.room))
    except KeyError as error:
        raise TwirpError("not_found", "requested room does not exist") from error
    standin.egresses.room_closed(request.room)
    return DeleteRoomResponse()


def _list_participants(standin: Standin, request: ListParticipantsRequest) -> ListParticipantsResponse:
    room = standin.rooms.rooms.get(request.room)
    if room is None:
        raise TwirpError("not_found", "requested room does not exist")
    return ListParticipantsResponse(participants=list(room.participants.values()))


def _remove_participant(standin: Standin, request: RoomParticipantIdentity) -> RemoveParticipantResponse:
    try:
        standin.report_later(standin.rooms.leave(request.room, request.identity, DisconnectReason.PARTICIPANT_REMOVED))
    except KeyError as error:
        raise TwirpError("not_found", "participant not found") from error
    return RemoveParticipantResponse()


_METHODS: dict[str, tuple[type[Message], Callable[[Standin, Any], Message]]] = {
    "ListRooms": (ListRoomsRequest, _list_rooms),
    "DeleteRoom": (DeleteRoomRequest, _delete_room),
    "ListParticipants": (ListParticipantsRequest, _list_participants),
    "RemoveParticipant": (RoomParticipantIdentity, _remove_participant),
}


def _start_egress(standin: Standin, request: RoomCompositeEgressRequest) -> Message:
    room = standin.rooms.rooms.get(request.room_name)
    return standin.egresses.start(request, room.sid if room else None)


_EGRESS_METHODS: dict[str, tuple[type[Message], Callable[[Standin, Any], Message]]] = {
    "StartRoomCompositeEgress": (RoomCompositeEgressRequest, _start_egress),
    "StopEgress": (StopEgressRequest, lambda standin, request: standin.egresses.stop(request)),
    "ListEgress": (ListEgressRequest, lambda standin, request: standin.egresses.listed(request)),
}


@post("/twirp/livekit.RoomService/{method:str}", status_code=200)
async def room_service(method: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[Any]:
    return await _twirp(_standin(state), "livekit.RoomService", _METHODS, method, request)


@post("/twirp/livekit.Egress/{method:str}", status_code=200)
async def egress_service(method: FromPath[str], request: Request[Any, Any, Any], state: State) -> Response[Any]:
    return await _twirp(_standin(state), "livekit.Egress", _EGRESS_METHODS, method, request)


async def _twirp(
    standin: Standin,
    service: str,
    methods: dict[str, tuple[type[Message], Callable[[Standin, Any], Message]]],
    method: str,
    request: Request[Any, Any, Any],
) -> Response[Any]:
    try:
        if method not in methods:
            raise TwirpError("bad_route", f"no handler for path /twirp/{service}/{method}")
        request_class, handler = methods[method]
        content_type = request.headers.get("content-type", "")
        message = _parse(request_class, await request.body(), content_type)
        _authorize(standin, request, method, message)
        standin.calls.append({"method": method, **json_format.MessageToDict(message, preserving_proto_field_name=True)})
        if standin.delay_seconds:
            await asyncio.sleep(standin.delay_seconds)
        if standin.unavailable:
            raise TwirpError("unavailable", "the stand-in plays an outage")
        try:
            answer = handler(standin, message)
        except EgressRefused as refused:
            raise TwirpError(refused.code, str(refused)) from refused
    except TwirpError as error:
        return error.response()
    if content_type.startswith("application/json"):  # Twirp answers in the request's encoding
        return Response(json_format.MessageToJson(answer), media_type="application/json")
    return Response(answer.SerializeToString(), media_type="application/protobuf")


# --- Control API ---------------------------------------------------------------------------------------


class Join(msgspec.Struct, frozen=True, kw_only=True):
    """A client connecting with `token`; when it displaces an older connection of the same identity,
    `kick_reported_first` reports that `participant_left` before the new `participant_joined`."""

    token: str
    kick_reported_first: bool = False
    deliver: bool = True


class Leave(msgspec.Struct, frozen=True, kw_only=True):
    room: str
    identity: str
    reason: str = "CLIENT_INITIATED"
    deliver: bool = True


class Close(msgspec.Struct, frozen=True, kw_only=True):
    deliver: bool = True


class Faults(msgspec.Struct, frozen=True, kw_only=True):
    """RoomService unavailable (every call a Twirp `unavailable`), or slow (each call answered after
    `delay_seconds`, as a LiveKit server under load would)."""

    unavailable: bool = False
    delay_seconds: float = 0.0


def _control_error(status: int, detail: str) -> Response[Any]:
    return Response({"detail": detail}, status_code=status)


@post("/_standin/join", status_code=200)
async def join(data: JSONBody[Join], state: State) -> Response[Any]:
    standin = _standin(state)
    try:
        claims = standin.verifier.verify(data.token)
    except (jwt.InvalidTokenError, ValueError) as error:
        return _control_error(401, f"invalid token: {error}")
    if claims.video is None or not claims.video.room_join or not claims.video.room:
        return _control_error(403, "the token does not grant joining a room")
    try:
        participant, events = standin.rooms.join(
            claims.video.room, claims, kick_reported_first=data.kick_reported_first
        )
    except RoomFull as error:
        return _control_error(403, str(error))
    receipts = await standin.report(events, deliver=data.deliver)
    return Response({"room": claims.video.room, "sid": participant.sid, "events": receipts})


@post("/_standin/leave", status_code=200)
async def leave(data: JSONBody[Leave], state: State) -> Response[Any]:
    standin = _standin(state)
    try:
        events = standin.rooms.leave(data.room, data.identity, DisconnectReason.Value(data.reason))
    except (KeyError, ValueError):
        return _control_error(404, "no such room, participant or reason")
    return Response({"events": await standin.report(events, deliver=data.deliver)})


@post("/_standin/rooms/{name:str}/close", status_code=200)
async def close(name: FromPath[str], data: JSONBody[Close], state: State) -> Response[Any]:
    """The room ends (its departure timeout passed, or it was deleted): participant_left for whoever is still
    in it, then room_finished."""
    standin = _standin(state)
    try:
        events = standin.rooms.close(name)
    except KeyError:
        return _control_error(404, "no such room")
    receipts = await standin.report(events, deliver=data.deliver)
    standin.egresses.room_closed(name)
    return Response({"events": receipts})


class PlayAgent(msgspec.Struct, frozen=True, kw_only=True):
    """Where the agent reports (sessions' base URL); by default the origin the webhooks go to."""

    sessions_url: str | None = None


@post("/_standin/rooms/{name:str}/agent", status_code=200)
async def play_agent(name: FromPath[str], data: JSONBody[PlayAgent], state: State) -> Response[Any]:
    """An agent worker takes the room's dispatch: it joins as an agent and reports a scripted interview
    (`agent.py`) to sessions through its agent API."""
    standin = _standin(state)
    room = standin.rooms.rooms.get(name)
    if room is None or not room.dispatches:
        return _control_error(404, "no such room, or no agent was dispatched to it")
    sessions_url = data.sessions_url or _origin(standin.config.webhook_url)
    if sessions_url is None:
        return _control_error(400, "sessions_url is needed: no webhook URL is configured")
    dispatch = room.dispatches[0]
    job = AgentJob(name, dispatch.agent_name, dispatch.metadata)
    try:
        _, events = standin.rooms.join(name, job.claims())
    except RoomFull as error:
        return _control_error(403, str(error))
    await standin.report(events)
    assert standin.http is not None
    answers = await report_interview(standin.http, sessions_url, job, standin.config.api_key, standin.config.api_secret)
    return Response(answers)


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@get("/_standin/rooms", sync_to_thread=False)
def rooms(state: State) -> dict[str, Any]:
    def describe(room: Any) -> dict[str, Any]:
        return {
            "name": room.name,
            "sid": room.sid,
            "config": json_format.MessageToDict(room.config, preserving_proto_field_name=True),
            "participants": [json_format.MessageToDict(p) for p in room.participants.values()],
            "dispatches": [json_format.MessageToDict(d, preserving_proto_field_name=True) for d in room.dispatches],
        }

    return {"rooms": [describe(room) for room in _standin(state).rooms.rooms.values()]}


@get("/_standin/calls", sync_to_thread=False)
def calls(state: State) -> dict[str, Any]:
    return {"calls": _standin(state).calls}


@post("/_standin/events/{event_id:str}/redeliver", status_code=200)
async def redeliver(event_id: FromPath[str], state: State) -> Response[Any]:
    standin = _standin(state)
    event = standin.events.get(event_id)
    if event is None:
        return _control_error(404, "no such event")
    return Response({"events": await standin.report([event])})


@put("/_standin/faults", sync_to_thread=False)
def set_faults(data: JSONBody[Faults], state: State) -> Faults:
    _standin(state).unavailable = data.unavailable
    _standin(state).delay_seconds = data.delay_seconds
    return data


@put("/_standin/egress/faults", sync_to_thread=False)
def set_egress_faults(data: JSONBody[EgressFaults], state: State) -> EgressFaults:
    _standin(state).egresses.faults = data
    return data


@get("/_standin/egresses", sync_to_thread=False)
def egresses(state: State) -> dict[str, Any]:
    items = _standin(state).egresses.items.values()
    return {"egresses": [json_format.MessageToDict(info, preserving_proto_field_name=True) for info in items]}


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(config: StandinConfig) -> Litestar:
    standin = Standin(config)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=5) as http:
            standin.http = http
            yield
            await asyncio.gather(*standin.background, return_exceptions=True)
            await standin.egresses.settled()

    return Litestar(
        route_handlers=[
            room_service,
            egress_service,
            join,
            leave,
            close,
            play_agent,
            rooms,
            calls,
            redeliver,
            set_faults,
            set_egress_faults,
            egresses,
            healthz,
        ],
        state=State({"standin": standin}),
        lifespan=[lifespan],
    )
