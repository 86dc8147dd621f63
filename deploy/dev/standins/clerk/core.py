"""The Clerk stand-in's state and what every Backend API route of it does alike: authentication, faults, Clerk's
error shape. Its routes live beside it (`app.py`: users, JWKS, events; `organizations.py`; `sessions.py`)."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
from litestar import Response
from litestar.datastructures import State

from deploy.dev.standins.clerk.payloads import clerk_error
from deploy.dev.standins.clerk.signing import new_svix_id, sign_webhook


class StandinConfig(msgspec.Struct, frozen=True, kw_only=True):
    secret_key: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    jwt_private_pem: str | None = None  # the instance's signing key: session tokens minted here (`sessions.py`)
    profile_claims: bool = True  # whether those tokens carry the user's profile (a customized session token)


class Faults(msgspec.Struct, frozen=True, kw_only=True):
    """Misbehaviour of the Backend API: each request first waits `latency_seconds`, then the first
    `fail_count` requests (all, if None) answer `fail_status`, then `rate_limit_count` requests answer 429."""

    latency_seconds: float = 0
    fail_status: int | None = None
    fail_count: int | None = None
    rate_limit_count: int = 0
    retry_after_seconds: int = 1


@dataclass
class RecordedEvent:
    svix_id: str
    event: dict[str, Any]


@dataclass
class Standin:
    """Everything the stand-in knows; one per app, reset by the control API."""

    config: StandinConfig
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    memberships: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # org id -> user id -> membership
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
        self.organizations.clear()
        self.memberships.clear()
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


def standin_of(state: State) -> Standin:
    return state.standin  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Answer:
    """A Backend API answer: sent by the Litestar routes and by `get_user`'s plain ASGI route alike."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def error_answer(status: int, code: str, message: str, long_message: str, **headers: str) -> Answer:
    return Answer(status, clerk_error(code, message, long_message), headers)


async def misbehave(standin: Standin, authorization: str | None, operation: str) -> Answer | None:
    """Count the request and apply auth and faults; None means: answer normally."""
    standin.requests[operation] += 1
    if standin.faults.latency_seconds:
        await asyncio.sleep(standin.faults.latency_seconds)
    if authorization != f"Bearer {standin.config.secret_key}":
        return error_answer(
            401, "authentication_invalid", "Unauthorized request", "The provided secret key is invalid."
        )
    if standin.faults.fail_status is not None and (standin.failures_left is None or standin.failures_left > 0):
        if standin.failures_left is not None:
            standin.failures_left -= 1
        return error_answer(standin.faults.fail_status, "internal_clerk_error", "Oops", "Something went wrong.")
    if standin.rate_limits_left > 0:
        standin.rate_limits_left -= 1
        return error_answer(
            429,
            "too_many_requests",
            "Too Many Requests",
            "You have exceeded the rate limit. Please wait and try again.",
            **{"Retry-After": str(standin.faults.retry_after_seconds)},
        )
    return None


def answer_with(standin: Standin, answer: Answer) -> Response[Any]:
    standin.statuses[str(answer.status)] += 1
    return Response(answer.body, status_code=answer.status, headers=answer.headers)
