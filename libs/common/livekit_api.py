"""A LiveKit server's API: one livekit-api client (one aiohttp session of keep-alive connections) for the app's life,
shared by whatever calls its services (sessions' RoomService and Egress), with region failover off (it would look
regions up over the network); every failure is `LiveKitUnavailable`, a not-found one nothing when the caller says it
is fine."""

from typing import Any, Self

import aiohttp
from google.protobuf.message import Message
from livekit.api import LiveKitAPI, TwirpError


class LiveKitUnavailable(Exception):
    """LiveKit could not answer (unreachable, timed out, or an error other than a missing room or egress)."""


class LiveKitServer:
    """Open for the app's life (`async with`); `timeout` bounds each call."""

    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout: float = 10.0) -> None:
        self._args = (url, api_key, api_secret)
        self._timeout = timeout
        self._api: LiveKitAPI | None = None

    async def __aenter__(self) -> Self:
        self._api = LiveKitAPI(*self._args, timeout=aiohttp.ClientTimeout(total=self._timeout), failover=False)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._api is not None:
            await self._api.aclose()

    async def call(
        self, service: str, method: str, request: Message, *, missing_ok: frozenset[str] = frozenset()
    ) -> Any:
        """`service`'s (`room` or `egress`) `method` with `request`; None when LiveKit answers one of the Twirp codes
        in `missing_ok`."""
        assert self._api is not None, "LiveKitServer used outside `async with`"
        try:
            return await getattr(getattr(self._api, service), method)(request)
        except TwirpError as error:
            if error.code in missing_ok:
                return None
            raise LiveKitUnavailable(f"{service} {method}: {error.code} ({error.status})") from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise LiveKitUnavailable(f"{service} {method}: {type(error).__name__}") from error
