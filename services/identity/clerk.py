"""The Clerk Backend API client: one user by id, and the user list page by page."""

import asyncio
import logging
import random
from typing import Self

import aiohttp
import msgspec

from libs.common.http_client import client_session
from services.identity.clerk_payloads import ClerkObjectId, ClerkUser, decode
from services.identity.metrics import CLERK_API_REQUESTS

logger = logging.getLogger(__name__)


class ClerkUnavailable(Exception):
    """Clerk could not answer in time (down, slow, rate-limited or refusing our key)."""


class ClerkUserUnreadable(ClerkUnavailable):
    """Clerk answered with a user object we cannot read (a value out of any sane range)."""


class ClerkUsersPage(msgspec.Struct, frozen=True):
    """One page of the user list: the users we can read, and the ids of those we cannot (`?` if even the id
    is unreadable). `listed` counts both, for paging."""

    users: list[ClerkUser]
    unreadable: list[str]

    @property
    def listed(self) -> int:
        return len(self.users) + len(self.unreadable)


class ClerkAnswer(msgspec.Struct, frozen=True):
    """An HTTP answer from Clerk, read whole."""

    status: int
    content: bytes
    retry_after: str | None


class ClerkClient:
    """Clerk Backend API over one aiohttp session opened for the app's (or command's) life: the one HTTP client
    stack of this project (ARCHITECTURE.md, "Dependencies"), keep-alive connections to Clerk reused.

    Retries what is safe to retry (transport errors, 5xx, and 429 after its `Retry-After`) and raises
    `ClerkUnavailable` when its patience runs out. `get_user` serves a person waiting for their interview,
    so its patience is short (concurrent calls for one user are joined upstream, in `users.ensure_user`);
    `list_users` serves the backfill and waits out rate limits.
    """

    def __init__(self, base_url: str, secret_key: str, *, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._secret_key = secret_key
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._http = client_session(
            timeout=self._timeout,
            headers={"Authorization": f"Bearer {self._secret_key}", "Accept": "application/json"},
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def get_user(self, clerk_id: str) -> ClerkUser | None:
        """The user as Clerk has it now, or None when Clerk says no such user exists."""
        response = await self._get("get_user", f"/v1/users/{clerk_id}", max_attempts=3, patience=2 * self._timeout)
        if response.status == 404:
            return None
        try:
            return decode(_user, response.content)
        except msgspec.DecodeError as error:
            logger.error("Clerk returned user %s in a shape we cannot read: %s", clerk_id, error)
            raise ClerkUserUnreadable(f"unreadable Clerk user {clerk_id}") from error

    async def list_users(self, *, offset: int, limit: int) -> ClerkUsersPage:
        """One page of users, oldest first (`order_by=created_at`): users signing up meanwhile come last.

        Each user is read on its own, so one we cannot read is reported, not fatal to the page."""
        params = {"limit": str(limit), "offset": str(offset), "order_by": "created_at"}
        response = await self._get("list_users", "/v1/users", params=params, max_attempts=10, patience=300)
        try:
            listed = decode(_raw_list, response.content)
        except msgspec.DecodeError as error:
            logger.error("Clerk returned a user list we cannot read: %s", error)
            raise ClerkUnavailable("unreadable Clerk user list") from error
        users: list[ClerkUser] = []
        unreadable: list[str] = []
        for raw in listed:
            try:
                users.append(decode(_user, raw))
            except msgspec.DecodeError as error:
                unreadable.append(_object_id(raw))
                logger.warning("skipped Clerk user %s: %s", unreadable[-1], error)
        return ClerkUsersPage(users=users, unreadable=unreadable)

    async def _get(
        self,
        operation: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        max_attempts: int,
        patience: float,
    ) -> ClerkAnswer:
        """GET until Clerk gives a final answer (2xx or 404) or `max_attempts`/`patience` seconds run out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(path, params)
            except (TimeoutError, aiohttp.ClientError) as error:
                CLERK_API_REQUESTS.labels(operation, "error").inc()
                reason, wait = f"transport error {type(error).__name__}", _backoff(attempt)
            else:
                status = response.status
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

    async def _send(self, path: str, params: dict[str, str] | None) -> ClerkAnswer:
        assert self._http is not None, "ClerkClient used outside its lifespan"
        async with self._http.get(self._base_url + path, params=params) as response:
            return ClerkAnswer(response.status, await response.read(), response.headers.get("retry-after"))


_user = msgspec.json.Decoder(ClerkUser)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_object_id_decoder = msgspec.json.Decoder(ClerkObjectId)


def _object_id(raw: bytes) -> str:
    try:
        return decode(_object_id_decoder, raw).id
    except msgspec.DecodeError:
        return "?"


def _backoff(attempt: int) -> float:
    return float(random.uniform(0.05, 0.1) * 2**attempt)  # noqa: S311 (jitter, not cryptography)


def _retry_after(response: ClerkAnswer, attempt: int) -> float:
    try:
        return max(0.0, float(response.retry_after or ""))
    except ValueError:
        return _backoff(attempt)
