"""LiveKit's RoomService as the sessions service uses it: which rooms exist, delete a room, remove a
participant. livekit-api's Twirp client, at `LIVEKIT_API_URL`, with region failover off (it would look up
regions over the network) and every failure turned into `LiveKitUnavailable`."""

from typing import Any, Self

import aiohttp
from google.protobuf.message import Message
from livekit.api import DeleteRoomRequest, ListRoomsRequest, LiveKitAPI, RoomParticipantIdentity, TwirpError


class LiveKitUnavailable(Exception):
    """RoomService could not answer (unreachable, timed out, or an error other than not-found)."""


class LiveKitRooms:
    """Open for the app's life (`async with`); `timeout` bounds each call."""

    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout: float = 5.0) -> None:
        self._args = (url, api_key, api_secret)
        self._timeout = timeout
        self._api: LiveKitAPI | None = None

    async def __aenter__(self) -> Self:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        self._api = LiveKitAPI(*self._args, timeout=timeout, failover=False)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._api is not None:
            await self._api.aclose()

    async def _call(self, method: str, request: Message, *, missing_ok: bool = False) -> Any:
        assert self._api is not None, "LiveKitRooms used outside `async with`"
        try:
            return await getattr(self._api.room, method)(request)
        except TwirpError as error:
            if missing_ok and error.code == "not_found":
                return None
            raise LiveKitUnavailable(f"RoomService {method}: {error.code} ({error.status})") from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise LiveKitUnavailable(f"RoomService {method}: {type(error).__name__}") from error

    async def existing(self, names: list[str]) -> set[str]:
        """Which of the rooms `names` exist now."""
        listed = await self._call("list_rooms", ListRoomsRequest(names=names))
        return {room.name for room in listed.rooms}

    async def delete(self, room: str) -> None:
        """Delete the room, disconnecting everyone in it; a room already gone is fine."""
        await self._call("delete_room", DeleteRoomRequest(room=room), missing_ok=True)

    async def remove_participant(self, room: str, identity: str) -> None:
        """Disconnect `identity` from `room`; someone (or a room) already gone is fine."""
        await self._call("remove_participant", RoomParticipantIdentity(room=room, identity=identity), missing_ok=True)
