"""LiveKit's Egress as sessions uses it: record one interview's room as audio (OGG, no manifest) straight into the
recordings' bucket, stop it, and ask which egresses a room has. livekit-api's Twirp client at `LIVEKIT_API_URL`,
region failover off (it would look regions up over the network); every failure is `EgressUnavailable`.

Never LiveKit's auto egress (`RoomEgress` in a room's or a token's configuration): that starts when the room opens,
before the candidate consented."""

from typing import Any, Self

import aiohttp
import msgspec
from google.protobuf.message import Message
from livekit.api import LiveKitAPI, TwirpError
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

from services.sessions.recordings.storage import Bucket

RUNNING = frozenset({EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE, EgressStatus.EGRESS_ENDING})


class EgressUnavailable(Exception):
    """Egress could not answer (unreachable, timed out, or an error other than not-found)."""


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
    """Open for the app's life (`async with`); `timeout` bounds each call."""

    def __init__(self, url: str, api_key: str, api_secret: str, upload: Upload, *, timeout: float = 10.0) -> None:
        self._args = (url, api_key, api_secret)
        self._upload = upload
        self._timeout = timeout
        self._api: LiveKitAPI | None = None

    async def __aenter__(self) -> Self:
        self._api = LiveKitAPI(*self._args, timeout=aiohttp.ClientTimeout(total=self._timeout), failover=False)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._api is not None:
            await self._api.aclose()

    async def _call(self, method: str, request: Message, *, missing_ok: bool = False) -> Any:
        assert self._api is not None, "LiveKitEgress used outside `async with`"
        try:
            return await getattr(self._api.egress, method)(request)
        except TwirpError as error:
            if missing_ok and error.code in ("not_found", "failed_precondition"):
                return None
            raise EgressUnavailable(f"Egress {method}: {error.code} ({error.status})") from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise EgressUnavailable(f"Egress {method}: {type(error).__name__}") from error

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
