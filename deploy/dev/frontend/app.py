"""The dev frontend (dev-only, like the stand-ins): a plain HTML + ES-module page that uses the product as a
browser app at its own origin would, and the few development helpers such a page cannot have on its own.

- `/` (and `/invite/{code}`, the page an invite's link opens) and its files, served by Litestar's static files
  router. It talks to sessions' `/api/*` directly, across origins (CORS), with a Clerk session token, and starts
  interviews through livekit-client's own `TokenSource` (its browser build, `/vendor/livekit-client.esm.mjs`,
  installed from npm into `.cache/` on first use, never committed). Signed in with an organization active, it is
  a recruiter's page: templates, invites, the organization's interviews.
- `/dev/*`: what Clerk's and LiveKit's own services would do for the page, done here against the stand-ins:
  sign a user up (the webhook delivered, held back or lost), list users and organizations, make an organization
  with a recruiter, get a session token for one (the Clerk stand-in mints it as Clerk's frontend API does, 60 s,
  refreshed by the page), and join, leave or close a room, or have the dispatched agent report, in the LiveKit
  stand-in (a real LiveKit server would be joined over WebRTC).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import msgspec
from litestar import Litestar, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from litestar.response import File
from litestar.static_files import create_static_files_router

from deploy.dev.tools import npm_package

STATIC = Path(__file__).parent / "static"
LIVEKIT_CLIENT = ("livekit-client", "2.23.0")


@dataclass(frozen=True)
class FrontendConfig:
    origin: str  # where the page is served: the Clerk stand-in's session tokens name it as `azp`
    sessions_url: str
    clerk_url: str
    clerk_secret_key: str
    livekit_standin_url: str | None


class SignUp(msgspec.Struct, frozen=True):
    email: str
    first_name: str | None = None
    webhook: Literal["delivered", "held", "lost"] = "delivered"


class NewOrganization(msgspec.Struct, frozen=True):
    name: str
    recruiter_id: str


class SessionRequest(msgspec.Struct, frozen=True):
    user_id: str
    org_id: str | None = None


class Forward(msgspec.Struct, frozen=True):
    """A control call to pass to the LiveKit stand-in as it is."""

    body: dict[str, Any] = {}


def _config(state: State) -> FrontendConfig:
    return state.config  # type: ignore[no-any-return]


def _http(state: State) -> httpx.AsyncClient:
    return state.http  # type: ignore[no-any-return]


def _clerk_api(state: State) -> dict[str, str]:
    return {"Authorization": f"Bearer {_config(state).clerk_secret_key}"}


@get("/invite/{code:str}", media_type="text/html", sync_to_thread=False)
def invite_page(code: FromPath[str]) -> File:
    """The page an invite's link opens (`INVITE_URL_TEMPLATE`): the page reads the code from its own URL."""
    return File(STATIC / "index.html", content_disposition_type="inline")


@get("/config.json", sync_to_thread=False)
def config(state: State) -> dict[str, Any]:
    settings = _config(state)
    return {"sessions_url": settings.sessions_url, "livekit_standin": settings.livekit_standin_url is not None}


@post("/dev/users", status_code=201)
async def sign_up(data: JSONBody[SignUp], state: State) -> dict[str, Any]:
    """A Clerk sign-up; its `user.created` webhook is delivered now, held back (deliver it later with
    `/dev/events/{svix_id}/deliver`), or lost."""
    body = {"email": data.email, "first_name": data.first_name, "deliver": data.webhook == "delivered"}
    created = (await _http(state).post(f"{_config(state).clerk_url}/_standin/users", json=body)).json()
    return {"user": created["user"], "svix_id": created.get("svix_id"), "webhook": data.webhook}


@post("/dev/events/{svix_id:str}/deliver", status_code=200)
async def deliver_held(svix_id: FromPath[str], state: State) -> dict[str, Any]:
    response = await _http(state).post(f"{_config(state).clerk_url}/_standin/events/{svix_id}/redeliver")
    return {"status": response.status_code}


@get("/dev/users")
async def users(state: State) -> list[dict[str, Any]]:
    listed = await _http(state).get(
        f"{_config(state).clerk_url}/v1/users", params={"limit": 100}, headers=_clerk_api(state)
    )
    return [
        {"id": user["id"], "email": _primary_email(user), "first_name": user.get("first_name")}
        for user in listed.json()
    ]


def _primary_email(user: dict[str, Any]) -> str | None:
    primary = user.get("primary_email_address_id")
    return next((e["email_address"] for e in user.get("email_addresses", []) if e["id"] == primary), None)


@get("/dev/organizations")
async def organizations(state: State) -> list[dict[str, Any]]:
    """Clerk's organizations and who is a member in which role (from its Backend API)."""
    clerk, http = _config(state).clerk_url, _http(state)
    listed = (await http.get(f"{clerk}/v1/organizations", headers=_clerk_api(state))).json()["data"]
    found = []
    for organization in listed:
        members = await http.get(
            f"{clerk}/v1/organizations/{organization['id']}/memberships", headers=_clerk_api(state)
        )
        roles = {m["public_user_data"]["user_id"]: m["role"] for m in members.json()["data"]}
        found.append({"id": organization["id"], "name": organization["name"], "roles": roles})
    return found


@post("/dev/organizations", status_code=201)
async def create_organization(data: JSONBody[NewOrganization], state: State) -> Response[Any]:
    """A Clerk organization whose recruiter is `recruiter_id` (role `org:admin`, as Clerk makes whoever creates one);
    its webhook is delivered."""
    body = {"name": data.name, "members": [{"user_id": data.recruiter_id, "role": "org:admin"}]}
    created = await _http(state).post(f"{_config(state).clerk_url}/_standin/organizations", json=body)
    return Response(created.json(), status_code=created.status_code)


@post("/dev/session", status_code=200)
async def session(data: JSONBody[SessionRequest], state: State) -> Response[Any]:
    """A Clerk session token for the user (with the organization active, if any), as Clerk's frontend
    `getToken()` gives one: minted by the Clerk stand-in, 60 s, for this origin."""
    settings = _config(state)
    body = {"user_id": data.user_id, "org_id": data.org_id, "authorized_party": settings.origin}
    minted = await _http(state).post(f"{settings.clerk_url}/_standin/sessions", json=body)
    return Response(minted.json(), status_code=minted.status_code)


@post("/dev/livekit/{action:path}", status_code=200)
async def livekit(action: FromPath[str], data: JSONBody[Forward], state: State) -> Response[Any]:
    """`join` / `leave` / `rooms/{room}/close` / `rooms/{room}/agent` in the LiveKit stand-in."""
    settings = _config(state)
    if settings.livekit_standin_url is None:
        return Response({"detail": "LiveKit is a real server here: join it with livekit-client"}, status_code=409)
    answer = await _http(state).post(f"{settings.livekit_standin_url}/_standin/{action.lstrip('/')}", json=data.body)
    return Response(answer.json(), status_code=answer.status_code)


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(settings: FrontendConfig) -> Litestar:
    http = httpx.AsyncClient(timeout=15)

    async def close_http() -> None:
        await http.aclose()

    livekit_client = npm_package(*LIVEKIT_CLIENT) / "dist"
    return Litestar(
        route_handlers=[
            invite_page,
            config,
            sign_up,
            deliver_held,
            users,
            organizations,
            create_organization,
            session,
            livekit,
            healthz,
            create_static_files_router(path="/vendor", directories=[livekit_client], name="vendor"),
            create_static_files_router(path="/", directories=[STATIC], html_mode=True),
        ],
        state=State({"config": settings, "http": http}),
        on_shutdown=[close_http],
    )
