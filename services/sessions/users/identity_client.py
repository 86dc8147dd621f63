"""The identity service's internal API as the sessions service calls it: ensure-user (a start identity has
not confirmed lately) and the users' changes feed."""

import asyncio
import logging
import time
import uuid
from datetime import datetime
from typing import Self

import aiohttp
import msgspec

from libs.common.http_client import client_session
from libs.common.log import request_id_var
from libs.common.profile_claims import ProfileClaims
from libs.common.request_context import REQUEST_ID_HEADER, new_request_id
from services.sessions.errors import IdentityUnavailable, UserNotAllowed
from services.sessions.metrics import IDENTITY_RPC_DURATION, IDENTITY_RPC_FAILURES

logger = logging.getLogger(__name__)


class IdentityUser(msgspec.Struct, frozen=True, kw_only=True):
    """The part of identity's user we use; other fields are ignored."""

    id: uuid.UUID
    clerk_id: str
    email: str | None = None
    email_verified: bool | None = None  # Clerk's word on `email`; None: Clerk has not said
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    profile_status: str = "complete"  # pending: identity stored the user from their id alone (Clerk was down)

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or self.username or "Candidate"


class _Ensured(msgspec.Struct, frozen=True):
    user: IdentityUser
    created: bool


class FeedItem(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of one of identity's changes feeds, read loosely: `change` is any string (a kind this release
    does not know is skipped by its reader, never a page it cannot decode), and what it names may be absent."""

    cursor: str
    change: str  # users': deleted | banned | unbanned | locked | unlocked; organizations': organization_deleted
    at: datetime
    clerk_id: str | None = None
    org_id: str | None = None


class FeedPage(msgspec.Struct, frozen=True):
    items: list[FeedItem]
    next_cursor: str | None


class IdentityClient:
    """One aiohttp session of keep-alive connections to identity for the app's life, with short timeouts.

    Ensure-user is idempotent, so an attempt that never reached identity (connection refused or reset, connect
    timeout, a kept-alive connection closed) or met 502/503/504 is retried once; then the caller gets 503 with
    Retry-After, never a 500. A slow answer is not retried (identity may still finish the write).
    """

    ATTEMPTS = 2
    # A burst queues for a few dozen warm connections rather than opening hundreds. While Clerk answers in
    # 150 ms, the new users identity fetches from it hold theirs that long: 32 of them pass more than Clerk's
    # rate limit per second, so they neither set this replica's pace nor keep other starts waiting long.
    CONNECTIONS = 32
    QUEUE_SECONDS = 10.0  # how long a start may wait for one of them (local queueing, so generous)

    def __init__(self, base_url: str, token: str, *, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._url = self._base_url + "/internal/users/ensure"
        self._token = token
        self._timeout = timeout
        self._http: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(self.CONNECTIONS)

    async def __aenter__(self) -> Self:
        self._http = client_session(
            timeout=self._timeout,
            connections=self.CONNECTIONS,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
            per_read=True,
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def changes(self, path: str, after: str, limit: int) -> FeedPage:
        """A page of the changes feed at `path` after the cursor `after` ("" = from the beginning);
        `IdentityUnavailable` when identity cannot answer."""
        assert self._http is not None, "IdentityClient used outside the app's lifespan"
        try:
            params = {"after": after, "limit": str(limit)}
            async with self._http.get(self._base_url + path, params=params) as response:
                status, content = response.status, await response.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            raise IdentityUnavailable(f"The identity service's feed is unreachable ({type(error).__name__}).") from None
        if status != 200:
            raise IdentityUnavailable(f"The identity service's feed answered {status}.")
        try:
            return _changes.decode(content)
        except msgspec.DecodeError:
            raise IdentityUnavailable("The identity service's feed sent a page we cannot read.") from None

    async def ensure_user(
        self, clerk_id: str, claims: ProfileClaims | None = None, *, verified_email: bool = False
    ) -> IdentityUser:
        """The user, created in identity if needed (from `claims`, the profile the session token carries, when
        there are any: no round trip to Clerk). With `verified_email`, identity asks Clerk for the primary email
        and its verification when it holds no email Clerk verified. `UserNotAllowed` (403) for users Clerk
        deleted, banned, locked or does not know; `IdentityUnavailable` (503) when identity cannot answer."""
        started = time.perf_counter()
        try:
            try:
                async with asyncio.timeout(self.QUEUE_SECONDS):
                    await self._slots.acquire()
            except TimeoutError:
                raise _unavailable("busy", "Too many starts are waiting on the identity service.") from None
            try:
                return await self._ensure_user(_EnsureRequest(clerk_id, claims, verified_email))
            finally:
                self._slots.release()
        finally:
            IDENTITY_RPC_DURATION.observe(time.perf_counter() - started)

    async def _ensure_user(self, request: "_EnsureRequest") -> IdentityUser:
        assert self._http is not None, "IdentityClient used outside the app's lifespan"
        clerk_id = request.clerk_id
        headers = {REQUEST_ID_HEADER: request_id_var.get() or new_request_id()}
        body = _ensure_request.encode(request)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._http.post(self._url, data=body, headers=headers) as response:
                    status, content = response.status, await response.read()
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.ServerDisconnectedError):
                # Nothing reached identity (or a kept-alive connection had closed): safe to try once more.
                if attempt < self.ATTEMPTS:
                    await asyncio.sleep(0.05)
                    continue
                raise _unavailable("unreachable", "The identity service is unreachable.") from None
            except TimeoutError:  # aiohttp's SocketTimeoutError is one
                # Identity may still finish the write; retrying would only stack up load. Let the client retry.
                raise _unavailable("timeout", "The identity service did not answer in time.") from None
            except aiohttp.ClientError:
                raise _unavailable("unreachable", "The identity service connection failed.") from None
            if status == 200:
                try:
                    return _ensured.decode(content).user
                except msgspec.DecodeError:
                    logger.error("identity answered ensure-user for %s with a body we cannot read", clerk_id)
                    raise _unavailable("server_error", "The identity service failed; retry shortly.") from None
            if status in (404, 410, 422):
                raise UserNotAllowed.deleted(clerk_id)
            if status == 403:  # banned or locked: identity refusing the user, never worth a retry
                raise UserNotAllowed(f"User {clerk_id} {_refusal(content)}.")
            if status in (502, 503, 504) and attempt < self.ATTEMPTS:
                await asyncio.sleep(0.05)
                continue
            if status == 401:
                logger.error("identity rejected our internal token: check INTERNAL_API_TOKEN / INTERNAL_API_TOKENS")
                raise _unavailable("rejected_token", "The identity service refused this service's credentials.")
            logger.error("identity answered ensure-user for %s with %s", clerk_id, status)
            raise _unavailable("server_error", "The identity service failed; retry shortly.")


class _Problem(msgspec.Struct, frozen=True):
    type: str = ""


_problem = msgspec.json.Decoder(_Problem)
_REFUSALS = {"urn:problem:user-banned": "is banned in Clerk", "urn:problem:user-locked": "is locked in Clerk"}


def _refusal(content: bytes) -> str:
    try:
        kind = _problem.decode(content).type
    except msgspec.DecodeError:
        kind = ""
    return _REFUSALS.get(kind, "may not start interviews")


class _EnsureRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    clerk_id: str
    claims: ProfileClaims | None = None
    verified_email: bool = False


_ensure_request = msgspec.json.Encoder()
_ensured = msgspec.json.Decoder(_Ensured)
_changes = msgspec.json.Decoder(FeedPage)


def _unavailable(reason: str, detail: str) -> IdentityUnavailable:
    IDENTITY_RPC_FAILURES.labels(reason).inc()
    logger.warning("ensure-user failed (%s): %s", reason, detail)
    return IdentityUnavailable(detail)
