"""The Clerk stand-in's HTTP app: Clerk's Backend API (users), and a control API for tests and the dev stack.

Backend API routes need `Authorization: Bearer <secret key>` and answer in Clerk's shapes, including its
errors; faults (latency, 5xx, 429 with Retry-After) can be switched on to play an outage. The control API
under `/_standin/` creates, changes and deletes users, which records the matching webhook events and, when a
webhook URL is configured, delivers them signed with the real `svix` library.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import httpx
import msgspec
from litestar import Litestar, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.types import ASGIApp, Receive, Scope, Send

from deploy.dev.standins.clerk.core import (
    Answer,
    Faults,
    Standin,
    StandinConfig,
    answer_with,
    error_answer,
    misbehave,
    standin_of,
)
from deploy.dev.standins.clerk.organizations import ORGANIZATION_ROUTES
from deploy.dev.standins.clerk.payloads import (
    deleted_event,
    make_user,
    new_user_id,
    update_user,
    user_event,
)
from deploy.dev.standins.clerk.sessions import mint_session


class NewUser(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str | None = None
    email: str | None = None
    email_verified: bool = True  # false: the address was added but its code never entered
    phone: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    extra_emails: list[str] = []
    deliver: bool = True


class UserChanges(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    email: str | None = None
    email_verified: bool | None = None
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
    answer = await misbehave(standin, authorization, "get_user")
    if answer is None:
        user = standin.users.get(scope["path"].removeprefix(_USER_PATH))
        answer = (
            error_answer(404, "resource_not_found", "not found", "User not found")
            if user is None
            else Answer(200, user)
        )
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
    standin = standin_of(state)
    if (fault := await misbehave(standin, request.headers.get("authorization"), "list_users")) is not None:
        return answer_with(standin, fault)
    try:
        limit = int(request.query_params.get("limit", 10))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        limit, offset = -1, -1
    order_by = request.query_params.get("order_by", "-created_at")
    if not (1 <= limit <= 500) or offset < 0 or order_by not in _ORDERINGS:
        return answer_with(
            standin,
            error_answer(422, "form_param_value_invalid", "is invalid", "limit, offset or order_by is invalid"),
        )
    key = order_by.lstrip("-")
    ordered = sorted(standin.users.values(), key=lambda u: (u[key], u["id"]), reverse=order_by.startswith("-"))
    return answer_with(standin, Answer(200, ordered[offset : offset + limit]))


@get(["/.well-known/jwks.json", "/v1/jwks"], sync_to_thread=False)
def jwks(state: State) -> dict[str, Any]:
    """The instance's public signing keys, as Clerk's Frontend API serves them (no auth needed)."""
    standin = standin_of(state)
    standin.requests["jwks"] += 1
    return standin.jwks


@put("/_standin/jwks", sync_to_thread=False)
def set_jwks(data: JSONBody[dict[str, Any]], state: State) -> dict[str, Any]:
    """Replace the served keys (a JWKS document), e.g. to play a key rotation."""
    standin_of(state).jwks = data
    return data


@post("/_standin/users", status_code=201)
async def create_user(data: JSONBody[NewUser], state: State) -> dict[str, Any]:
    standin = standin_of(state)
    user = make_user(
        user_id=data.user_id,
        email=data.email,
        email_verified=data.email_verified,
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
    standin = standin_of(state)
    base = int(time.time() * 1000) - data.count
    for n in range(data.count):
        user = make_user(
            user_id=new_user_id(), email=f"bulk{n}@example.com", first_name=f"Bulk{n}", created_at=base + n
        )
        standin.users[user["id"]] = user
    return {"created": data.count}


@patch("/_standin/users/{user_id:str}")
async def change_user(user_id: FromPath[str], data: JSONBody[UserChanges], state: State) -> Response[Any]:
    standin = standin_of(state)
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
    standin = standin_of(state)
    if standin.users.pop(user_id, None) is None:
        return Response({"detail": f"no user {user_id}"}, status_code=404)
    return Response(await standin.record(deleted_event(user_id), deliver=deliver))


@get("/_standin/events", sync_to_thread=False)
def list_events(state: State) -> list[dict[str, Any]]:
    return [{"svix_id": e.svix_id, "event": e.event} for e in standin_of(state).events]


@post("/_standin/events/{svix_id:str}/redeliver", status_code=200)
async def redeliver(svix_id: FromPath[str], state: State) -> Response[Any]:
    """Send a recorded event again with its original svix-id, as Svix does on a retry."""
    standin = standin_of(state)
    recorded = next((e for e in standin.events if e.svix_id == svix_id), None)
    if recorded is None or not standin.config.webhook_url:
        return Response({"detail": "unknown event or no webhook URL configured"}, status_code=404)
    return Response({"delivery": await standin.deliver(recorded)})


@put("/_standin/faults", sync_to_thread=False)
def set_faults(data: JSONBody[Faults], state: State) -> Faults:
    standin_of(state).set_faults(data)
    return data


@delete("/_standin/faults", status_code=200, sync_to_thread=False)
def clear_faults(state: State) -> Faults:
    standin_of(state).set_faults(Faults())
    return Faults()


@get("/_standin/stats", sync_to_thread=False)
def stats(state: State) -> dict[str, dict[str, int]]:
    standin = standin_of(state)
    return {"requests": dict(standin.requests), "statuses": dict(standin.statuses)}


@post("/_standin/reset", status_code=200, sync_to_thread=False)
def reset(state: State) -> dict[str, Literal["reset"]]:
    standin_of(state).reset()
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
            *ORGANIZATION_ROUTES,
            mint_session,
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
