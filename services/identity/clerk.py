"""Clerk's wire formats (Backend API user, webhook events) and the Backend API client."""

import asyncio
import logging
import random
from datetime import UTC, datetime
from typing import Any, Literal, Self, TypeVar

import httpx
import msgspec

from services.identity.metrics import CLERK_API_REQUESTS
from services.identity.profiles import UserProfile

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ClerkEmailAddress(msgspec.Struct, frozen=True):
    id: str
    email_address: str


class ClerkPhoneNumber(msgspec.Struct, frozen=True):
    id: str
    phone_number: str


class ClerkUser(msgspec.Struct, frozen=True, kw_only=True):
    """Clerk's User object (Backend API and `user.created`/`user.updated` data); other fields are ignored."""

    id: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    image_url: str | None = None
    primary_email_address_id: str | None = None
    primary_phone_number_id: str | None = None
    email_addresses: list[ClerkEmailAddress] = []
    phone_numbers: list[ClerkPhoneNumber] = []
    created_at: int  # unix milliseconds
    updated_at: int  # unix milliseconds

    def to_profile(self) -> UserProfile:
        """The primary email and phone are the ones named by `primary_*_id`, wherever they are listed."""
        email = next((e.email_address for e in self.email_addresses if e.id == self.primary_email_address_id), None)
        phone = next((p.phone_number for p in self.phone_numbers if p.id == self.primary_phone_number_id), None)
        return UserProfile(
            clerk_id=self.id,
            email=email,
            phone=phone,
            username=self.username,
            first_name=self.first_name,
            last_name=self.last_name,
            image_url=self.image_url,
            clerk_created_at=_from_millis(self.created_at),
            clerk_updated_at=_from_millis(self.updated_at),
        )


class ClerkDeletedObject(msgspec.Struct, frozen=True):
    id: str
    deleted: bool = True


class ClerkEventHead(msgspec.Struct, frozen=True):
    """The part of every webhook envelope we read before knowing the event's type."""

    type: str
    timestamp: int | None = None


class ClerkUserEvent(msgspec.Struct, frozen=True):
    type: Literal["user.created", "user.updated"]
    data: ClerkUser


class ClerkUserDeletedEvent(msgspec.Struct, frozen=True):
    type: Literal["user.deleted"]
    data: ClerkDeletedObject


USER_EVENT_TYPES = frozenset({"user.created", "user.updated"})


def _from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


class ClerkUnavailable(Exception):
    """Clerk could not answer in time (down, slow, rate-limited or refusing our key)."""


class ClerkClient:
    """Clerk Backend API over one pooled `httpx.AsyncClient` opened for the app's (or command's) life.

    Retries what is safe to retry (transport errors, 5xx, and 429 after its `Retry-After`) and raises
    `ClerkUnavailable` when its patience runs out. `get_user` serves a person waiting for their interview,
    so its patience is short, and concurrent calls for one user share a single request; `list_users`
    serves the backfill and waits out rate limits.
    """

    def __init__(self, base_url: str, secret_key: str, *, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._secret_key = secret_key
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._in_flight: dict[str, asyncio.Task[ClerkUser | None]] = {}

    async def __aenter__(self) -> Self:
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {self._secret_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 1.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._in_flight.values():
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    async def get_user(self, clerk_id: str) -> ClerkUser | None:
        """The user as Clerk has it now, or None when Clerk says no such user exists."""
        task = self._in_flight.get(clerk_id)
        if task is None:
            task = asyncio.create_task(self._fetch_user(clerk_id))
            self._in_flight[clerk_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(clerk_id, None))
        # One caller going away (client disconnect) must not cancel the request the others wait on.
        return await asyncio.shield(task)

    async def _fetch_user(self, clerk_id: str) -> ClerkUser | None:
        response = await self._get("get_user", f"/v1/users/{clerk_id}", max_attempts=3, patience=2 * self._timeout)
        if response.status_code == 404:
            return None
        return _decode(response.content, ClerkUser)

    async def list_users(self, *, offset: int, limit: int) -> list[ClerkUser]:
        """One page of users, oldest first (`order_by=created_at`): users signing up meanwhile come last."""
        params = {"limit": limit, "offset": offset, "order_by": "created_at"}
        response = await self._get("list_users", "/v1/users", params=params, max_attempts=10, patience=300)
        return _decode(response.content, list[ClerkUser])

    async def _get(
        self,
        operation: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        max_attempts: int,
        patience: float,
    ) -> httpx.Response:
        """GET until Clerk gives a final answer (2xx or 404) or `max_attempts`/`patience` seconds run out."""
        assert self._http is not None, "ClerkClient used outside its lifespan"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.get(path, params=params)
            except httpx.TransportError as error:
                CLERK_API_REQUESTS.labels(operation, "error").inc()
                reason, wait = f"transport error {type(error).__name__}", _backoff(attempt)
            else:
                status = response.status_code
                CLERK_API_REQUESTS.labels(operation, str(status)).inc()
                if status < 300 or status == 404:
                    return response
                if status == 429:
                    reason, wait = "rate limited (429)", _retry_after(response, attempt)
                elif status >= 500:
                    reason, wait = f"status {status}", _backoff(attempt)
                else:
                    logger.error("Clerk refused GET %s with %s: check CLERK_SECRET_KEY and CLERK_API_URL", path, status)
                    raise ClerkUnavailable(f"Clerk answered {status}")
            if attempt >= max_attempts or loop.time() + wait > deadline:
                logger.warning("Clerk unavailable for GET %s after %d attempts: %s", path, attempt, reason)
                raise ClerkUnavailable(reason)
            await asyncio.sleep(wait)


def _decode(body: bytes, type_: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.DecodeError as error:
        logger.error("Clerk returned a body we cannot read: %s", error)
        raise ClerkUnavailable("unreadable Clerk payload") from error


def _backoff(attempt: int) -> float:
    return float(random.uniform(0.05, 0.1) * 2**attempt)  # noqa: S311 (jitter, not cryptography)


def _retry_after(response: httpx.Response, attempt: int) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return _backoff(attempt)
