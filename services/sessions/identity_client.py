"""The identity service's ensure-user RPC, as the sessions service calls it before every interview."""

import asyncio
import logging
import time
import uuid
from typing import Self

import httpx
import msgspec

from libs.common.errors import ServiceUnavailable
from libs.common.log import request_id_var
from libs.common.request_context import REQUEST_ID_HEADER
from services.sessions.errors import UserNotAllowed
from services.sessions.metrics import IDENTITY_RPC_DURATION, IDENTITY_RPC_FAILURES

logger = logging.getLogger(__name__)


class IdentityUser(msgspec.Struct, frozen=True, kw_only=True):
    """The part of identity's user we use; other fields are ignored."""

    id: uuid.UUID
    clerk_id: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.first_name, self.last_name) if part)
        return full or self.username or "Candidate"


class _Ensured(msgspec.Struct, frozen=True):
    user: IdentityUser
    created: bool


class IdentityClient:
    """One pooled HTTP client to identity for the app's life, with short timeouts.

    ensure-user is idempotent, so a failed attempt is retried once when the cause is transient (connection
    refused or reset, 502/503/504); then the caller gets 503 with Retry-After, never a 500.
    """

    ATTEMPTS = 2

    def __init__(self, base_url: str, token: str, *, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {self._token}"},
            # A burst queues for one of a few warm connections (pool timeout: local queueing, so generous)
            # rather than opening hundreds; connect and read timeouts are about identity itself. Few, too,
            # because httpcore polls every pooled connection on each request (profiled: 16% of CPU at 32).
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 1.0), pool=10.0),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def ensure_user(self, clerk_id: str) -> IdentityUser:
        """The user, created in identity if needed. `UserNotAllowed` (403) for users Clerk deleted or does
        not know; `ServiceUnavailable` (503) when identity cannot answer."""
        started = time.perf_counter()
        try:
            return await self._ensure_user(clerk_id)
        finally:
            IDENTITY_RPC_DURATION.observe(time.perf_counter() - started)

    async def _ensure_user(self, clerk_id: str) -> IdentityUser:
        assert self._http is not None, "IdentityClient used outside the app's lifespan"
        headers = {REQUEST_ID_HEADER: request_id_var.get() or uuid.uuid4().hex}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.post("/internal/users/ensure", json={"clerk_id": clerk_id}, headers=headers)
            except httpx.PoolTimeout:
                raise _unavailable("busy", "Too many starts are waiting on the identity service.") from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                # Nothing reached identity (or a kept-alive connection had closed): safe to try once more.
                if attempt < self.ATTEMPTS:
                    await asyncio.sleep(0.05)
                    continue
                raise _unavailable("unreachable", "The identity service is unreachable.") from None
            except httpx.TimeoutException:
                # Identity may still finish the write; retrying would only stack up load. Let the client retry.
                raise _unavailable("timeout", "The identity service did not answer in time.") from None
            except httpx.TransportError:
                raise _unavailable("unreachable", "The identity service connection failed.") from None
            if response.status_code == 200:
                return msgspec.json.decode(response.content, type=_Ensured).user
            if response.status_code in (404, 410, 422):
                raise UserNotAllowed(f"User {clerk_id} no longer exists in Clerk.")
            if response.status_code in (502, 503, 504) and attempt < self.ATTEMPTS:
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 401:
                logger.error("identity rejected our internal token: check INTERNAL_API_TOKEN / INTERNAL_API_TOKENS")
                raise _unavailable("rejected_token", "The identity service refused this service's credentials.")
            logger.error("identity answered ensure-user for %s with %s", clerk_id, response.status_code)
            raise _unavailable("server_error", "The identity service failed; retry shortly.")


def _unavailable(reason: str, detail: str) -> ServiceUnavailable:
    IDENTITY_RPC_FAILURES.labels(reason).inc()
    logger.warning("ensure-user failed (%s): %s", reason, detail)
    return ServiceUnavailable(detail, retry_after=2)
