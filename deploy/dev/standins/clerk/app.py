"""The Clerk stand-in's HTTP app: Clerk's Backend API (users), and a control API for tests and the dev stack.

Backend API routes need `Authorization: Bearer <secret key>` and answer in Clerk's shapes, including its
errors; faults (latency, 5xx, 429 with Retry-After) can be switched on to play an outage. The control API
under `/_standin/` creates, changes and deletes users, which records the matching webhook events and, when a
webhook URL is configured, delivers them signed with the real `svix` library.
"""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import msgspec
from litestar import Litestar, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ASGIApp, Receive, Scope, Send

from deploy.dev.standins.clerk.payloads import (
    clerk_error,
    deleted_event,
    make_user,
    new_user_id,
    update_user,
    user_event,
)
from deploy.dev.standins.clerk.signing import new_svix_id, sign_webhook


class StandinConfig(msgspec.Struct, frozen=True, kw_only=True):
    secret_key: str
    webhook_url: str | None = None
    webhook_secret: str | None = None


class Faults(msgspec.Struct, frozen=True, kw_only=True):
    """Misbehaviour of the Backend API: each request first waits `latency_seconds`, then the first
    `fail_count` requests (all, if None) answer `fail_status`, then `rate_limit_count` requests answer 429."""

    latency_seconds: float = 0
    fail_status: int | None = None
    fail_count: int | None = None
    rate_limit_count: int = 0
    retry_after_seconds: int = 1


class NewUser(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str | None = None
    email: str | None = None
    phone: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    extra_emails: list[str] = []
    deliver: bool = True


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    email: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    banned: bool | None = None  # as Clerk's ban / unban endpoints set it
    locked: bool | None = None  # as Clerk sets it after too many failed sign-ins
    # What a user's own browser may write (Clerk allows 8 KB), as JSON text: kept and sent verbatim, so any
    # nesting depth reaches the identity service unparsed.
    unsafe_metadata_json: str | None = None
    deliver: bool = True


class Bulk(msgspec.Struct, frozen=True):
    count: int


@dataclass
class RecordedEvent:
    svix_id: str
    event: dict[str, Any]


@dataclass
class Standin:
    """Everything the stand-in knows; one per app, reset by the control API."""

    config: StandinConfig
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[RecordedEvent] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    failures_left: int | None = None
    rate_limits_left: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    http: httpx.AsyncClient | None = None

    def reset(self) -> None:
        self.jwks = {"keys": []}
        self.users.clear()
        self.events.clear()
        self.set_faults(Faults())
        self.requests.clear()
        self.statuses.clear()

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.failures_left = faults.fail_count
        self.rate_limits_left = faults.rate_limit_count

    async def record(self, event: dict[str, Any], *, deliver: bool) -> dict[str, Any]:
        recorded = RecordedEvent(svix_id=new_svix_id(), event=event)
        self.events.append(recorded)
        delivery = await self.deliver(recorded) if deliver and self.config.webhook_url else None
        return {"event": event, "svix_id": recorded.svix_id, "delivery": delivery}

    async def deliver(self, recorded: RecordedEvent) -> dict[str, Any]:
        """POST the event to the webhook URL, Svix-signed. Never raises: a failed delivery has status None."""
        assert self.http is not None, "used outside the app's lifespan"
        assert self.config.webhook_url, "no webhook URL configured"
        assert self.config.webhook_secret, "no webhook secret configured"
        body = msgspec.json.encode(recorded.event)
        headers = sign_webhook(self.config.webhook_secret, body, msg_id=recorded.svix_id)
        try:
            response = await self.http.post(
                self.config.webhook_url, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        return {"svix_id": recorded.svix_id, "status": status}


def _standin(state: State) -> Standin:
    return state.standin  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Answer:
    """A Backend API answer: sent by the Litestar routes and by `get_user`'s plain ASGI route alike."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str, long_message: str, **headers: str) -> Answer:
    return Answer(status, clerk_error(code, message, long_message), headers)


async def _misbehave(standin: Standin, authorization: str | None, operation: str) -> Answer | None:
    """Count the request and apply auth and faults; None means: answer normally."""
    standin.requests[operation] += 1
    if standin.faults.latency_seconds:
        await asyncio.sleep(standin.faults.latency_seconds)
    if authorization != f"Bearer {standin.config.secret_key}":
        return _error(401, "authentication_invalid", "Unauthorized request", "The provided secret key is invalid.")
    if standin.faults.fail_status is not None and (standin.failures_left is None or standin.failures_left > 0):
        if standin.failures_left is not None:
            standin.failures_left -= 1
        return _error(standin.faults.fail_status, "internal_clerk_error", "Oops", "Something went wrong.")
    if standin.rate_limits_left > 0:
        standin.rate_limits_left -= 1
        return _error(
            429,
            "too_many_requests",
            "Too Many Requests",
            "You have exceeded the rate limit. Please wait and try again.",
            **{"Retry-After": str(standin.faults.retry_after_seconds)},
        )
    return None


def _answer(standin: Standin, answer: Answer) -> Response[Any]:
    standin.statuses[str(answer.status)] += 1
    return Response(answer.body, status_code=answer.status, headers=answer.headers)


_USER_PATH = "/v1/users/"
_encoder = msgspec.json.Encoder()


def _is_get_user(scope: Scope) -> bool:
    """`GET /v1/users/{user_id}`."""
    if scope["type"] != ScopeType.HTTP or scope["method"] != "GET" or not scope["path"].startswith(_USER_PATH):
        return False
    user_id = scope["path"].removeprefix(_USER_PATH)
    return bool(user_id) and "/" not in user_id


async def get_user(standin: Standin, scope: Scope, send: Send) -> None:
    """`GET /v1/users/{user_id}` as plain ASGI. A new user's start calls it, and the benchmark runs the stand-in
    on the machine it measures: Clerk's own servers cost the services no CPU, so their stand-in should cost as
    little as serving HTTP takes."""
    authorization = next((value.decode() for key, value in scope["headers"] if key == b"authorization"), None)
    answer = await _misbehave(standin, authorization, "get_user")
    if answer is None:
        user = standin.users.get(scope["path"].removeprefix(_USER_PATH))
        answer = _error(404, "resource_not_found", "not found", "User not found") if user is None else Answer(200, user)
    standin.statuses[str(answer.status)] += 1
    body = _encoder.encode(answer.body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


_ORDERINGS = {"created_at", "-created_at", "updated_at", "-updated_at"}


@get("/v1/users")
async def list_users(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """A bare JSON array, as Clerk returns; ties in the ordering are broken by id so paging is stable."""
    standin = _standin(state)
    if (fault := await _misbehave(standin, request.headers.get("authorization"), "list_users")) is not None:
        return _answer(standin, fault)
    try:
        limit = int(request.query_params.get("limit", 10))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        limit, offset = -1, -1
    order_by = request.query_params.get("order_by", "-created_at")
    if not (1 <= limit <= 500) or offset < 0 or order_by not in _ORDERINGS:
        return _answer(
            standin,
            _error(422, "form_param_value_invalid", "is invalid", "limit, offset or order_by is invalid"),
        )
    key = order_by.lstrip("-")
    ordered = sorted(standin.users.values(), key=lambda u: (u[key], u["id"]), reverse=order_by.startswith("-"))
    return _answer(standin, Answer(200, ordered[offset : offset + limit]))


@get(["/.well-known/jwks.json", "/v1/jwks"], sync_to_thread=False)
def jwks(state: State) -> dict[str, Any]:
    """The instance's public signing keys, as Clerk's Frontend API serves them (no auth needed)."""
    standin = _standin(state)
    standin.requests["jwks"] += 1
    return standin.jwks


@put("/_standin/jwks", sync_to_thread=False)
def set_jwks(data: JSONBody[dict[str, Any]], state: State) -> dict[str, Any]:
    """Replace the served keys (a JWKS document), e.g. to play a key rotation."""
    _standin(state).jwks = data
    return data


@post("/_standin/users", status_code=201)
async def create_user(data: JSONBody[NewUser], state: State) -> dict[str, Any]:
    standin = _standin(state)
    user = make_user(
        user_id=data.user_id,
        email=data.email,
        phone=data.phone,
        username=data.username,
        first_name=data.first_name,
        last_name=data.last_name,
        extra_emails=data.extra_emails,
    )
    standin.users[user["id"]] = user
    return {"user": user, **await standin.record(user_event("user.created", user), deliver=data.deliver)}


@post("/_standin/users/bulk", status_code=201, sync_to_thread=False)
def create_users(data: JSONBody[Bulk], state: State) -> dict[str, int]:
    """Many users at once, without webhooks: users who predate the webhook, for the backfill."""
    standin = _standin(state)
    base = int(time.time() * 1000) - data.count
    for n in range(data.count):
        user = make_user(
            user_id=new_user_id(), email=f"bulk{n}@example.com", first_name=f"Bulk{n}", created_at=base + n
        )
        standin.users[user["id"]] = user
    return {"created": data.count}


@patch("/_standin/users/{user_id:str}")
async def change_user(user_id: FromPath[str], data: JSONBody[UserChanges], state: State) -> Response[Any]:
    standin = _standin(state)
    if user_id not in standin.users:
        return Response({"detail": f"no user {user_id}"}, status_code=404)
    changes = msgspec.structs.asdict(data)
    deliver = changes.pop("deliver")
    metadata = changes.pop("unsafe_metadata_json")
    changes = {key: value for key, value in changes.items() if value is not None}
    if metadata is not None:
        changes["unsafe_metadata"] = msgspec.Raw(metadata.encode())
    user = standin.users[user_id] = update_user(standin.users[user_id], **changes)
    return Response({"user": user, **await standin.record(user_event("user.updated", user), deliver=deliver)})


@delete("/_standin/users/{user_id:str}", status_code=200)
async def remove_user(user_id: FromPath[str], state: State, deliver: FromQuery[bool] = True) -> Response[Any]:
    standin = _standin(state)
    if standin.users.pop(user_id, None) is None:
        return Response({"detail": f"no user {user_id}"}, status_code=404)
    return Response(await standin.record(deleted_event(user_id), deliver=deliver))


@get("/_standin/events", sync_to_thread=False)
def list_events(state: State) -> list[dict[str, Any]]:
    return [{"svix_id": e.svix_id, "event": e.event} for e in _standin(state).events]


@post("/_standin/events/{svix_id:str}/redeliver", status_code=200)
async def redeliver(svix_id: FromPath[str], state: State) -> Response[Any]:
    """Send a recorded event again with its original svix-id, as Svix does on a retry."""
    standin = _standin(state)
    recorded = next((e for e in standin.events if e.svix_id == svix_id), None)
    if recorded is None or not standin.config.webhook_url:
        return Response({"detail": "unknown event or no webhook URL configured"}, status_code=404)
    return Response({"delivery": await standin.deliver(recorded)})


@put("/_standin/faults", sync_to_thread=False)
def set_faults(data: JSONBody[Faults], state: State) -> Faults:
    _standin(state).set_faults(data)
    return data


@delete("/_standin/faults", status_code=200, sync_to_thread=False)
def clear_faults(state: State) -> Faults:
    _standin(state).set_faults(Faults())
    return Faults()


@get("/_standin/stats", sync_to_thread=False)
def stats(state: State) -> dict[str, dict[str, int]]:
    standin = _standin(state)
    return {"requests": dict(standin.requests), "statuses": dict(standin.statuses)}


@post("/_standin/reset", status_code=200, sync_to_thread=False)
def reset(state: State) -> dict[str, Literal["reset"]]:
    _standin(state).reset()
    return {"status": "reset"}


def create_app(config: StandinConfig) -> ASGIApp:
    standin = Standin(config=config)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, connect=2)) as http:
            standin.http = http
            yield

    routes = Litestar(
        route_handlers=[
            list_users,
            jwks,
            set_jwks,
            create_user,
            create_users,
            change_user,
            remove_user,
            list_events,
            redeliver,
            set_faults,
            clear_faults,
            stats,
            reset,
        ],
        state=State({"standin": standin}),
        lifespan=[lifespan],
        openapi_config=None,
        logging_config=None,
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if _is_get_user(scope):
            await get_user(standin, scope, send)
        else:
            await routes(scope, receive, send)

    return app
