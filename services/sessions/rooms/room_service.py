"""LiveKit's RoomService as the sessions service uses it: which rooms exist, delete a room, remove a participant;
through the service's one LiveKit client (`libs.common.livekit_api`), every failure `LiveKitUnavailable`."""

from livekit.api import DeleteRoomRequest, ListRoomsRequest, RoomParticipantIdentity

from libs.common.livekit_api import LiveKitServer

NOT_FOUND = frozenset({"not_found"})


class LiveKitRooms:
    def __init__(self, server: LiveKitServer) -> None:
        self._server = server

    async def existing(self, names: list[str]) -> set[str]:
        """Which of the rooms `names` exist now."""
        listed = await self._server.call("room", "list_rooms", ListRoomsRequest(names=names))
        return {room.name for room in listed.rooms}

    async def delete(self, room: str) -> None:
        """Delete the room, disconnecting everyone in it; a room already gone is fine."""
        await self._server.call("room", "delete_room", DeleteRoomRequest(room=room), missing_ok=NOT_FOUND)

    async def remove_participant(self, room: str, identity: str) -> None:
        """Disconnect `identity` from `room`; someone (or a room) already gone is fine."""
        request = RoomParticipantIdentity(room=room, identity=identity)
        await self._server.call("room", "remove_participant", request, missing_ok=NOT_FOUND)
