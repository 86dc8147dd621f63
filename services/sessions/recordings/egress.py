"""LiveKit's Egress as sessions uses it: record one interview's room as audio (OGG, no manifest) straight into the
recordings' bucket, stop it, and ask which egresses a room has; through the service's one LiveKit client
(`libs.common.livekit_api`), every failure `LiveKitUnavailable`.

Never LiveKit's auto egress (set in a room's or a token's configuration): that starts when the room opens,
before the candidate consented."""

from typing import Any

import msgspec
from google.protobuf.message import Message
from livekit.protocol.egress import (
    EgressInfo,
    EgressStatus,
    EncodedFileOutput,
    EncodedFileType,
    ListEgressRequest,
    RoomCompositeEgressRequest,
    S3Upload,
    StopEgressRequest,
)

from libs.common.livekit_api import LiveKitServer
from services.sessions.recordings.storage import Bucket

RUNNING = frozenset({EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE, EgressStatus.EGRESS_ENDING})


_ENDED_OR_UNKNOWN = frozenset({"not_found", "failed_precondition"})


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    """Where an egress writes: the bucket, with the write-only pair handed to LiveKit."""

    bucket: Bucket
    access_key: str
    secret: str

    def to(self) -> S3Upload:
        place = self.bucket
        return S3Upload(
            endpoint=place.endpoint,
            bucket=place.name,
            region=place.region,
            force_path_style=place.force_path_style,
            access_key=self.access_key,
            secret=self.secret,
        )


class LiveKitEgress:
    """Egress through the service's one LiveKit client (`libs.common.livekit_api`)."""

    def __init__(self, server: LiveKitServer, upload: Upload) -> None:
        self._server = server
        self._upload = upload

    async def _call(self, method: str, request: Message, *, missing_ok: bool = False) -> Any:
        return await self._server.call(
            "egress", method, request, missing_ok=_ENDED_OR_UNKNOWN if missing_ok else frozenset()
        )

    async def start(self, room_name: str, key: str) -> EgressInfo:
        """Record `room_name` as one OGG audio file at `key` in the bucket."""
        output = EncodedFileOutput(
            file_type=EncodedFileType.OGG, filepath=key, disable_manifest=True, s3=self._upload.to()
        )
        request = RoomCompositeEgressRequest(room_name=room_name, audio_only=True, file_outputs=[output])
        info: EgressInfo = await self._call("start_room_composite_egress", request)
        return info

    async def stop(self, egress_id: str) -> None:
        """Stop the egress (it uploads what it recorded); one already ended or unknown is fine."""
        await self._call("stop_egress", StopEgressRequest(egress_id=egress_id), missing_ok=True)

    async def of_room(self, room_name: str) -> list[EgressInfo]:
        """The room's egresses LiveKit knows (running and recently ended)."""
        listed = await self._call("list_egress", ListEgressRequest(room_name=room_name))
        return list(listed.items)

    async def find(self, egress_id: str) -> EgressInfo | None:
        listed = await self._call("list_egress", ListEgressRequest(egress_id=egress_id), missing_ok=True)
        return None if listed is None or not listed.items else listed.items[0]
