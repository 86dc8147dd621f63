"""LiveKit's Egress, as the stand-in plays it: `StartRoomCompositeEgress`, `StopEgress` and `ListEgress` over Twirp
(the `roomRecord` grant), and what a real egress does with an audio-only room composite: `egress_started` (starting)
and `egress_updated` (active) webhooks after the answer; on `StopEgress` or when its room ends, a real OGG audio file
(Vorbis, a tone as long as the egress ran, at most a minute) uploaded with the request's own `S3Upload` credentials,
then `egress_ended` with its `FileInfo` (duration in nanoseconds) or, if the upload failed, `EGRESS_FAILED`.

Faults a test turns on (`PUT /_standin/egress/faults`): starts refused (`unavailable`), egresses that fail without
a file, egress webhooks lost or delivered in reverse order, a slow upload.
"""

import asyncio
import io
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy
import soundfile
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from livekit.api import WebhookEvent
from livekit.protocol.egress import (
    EgressInfo,
    EgressStatus,
    FileInfo,
    ListEgressRequest,
    ListEgressResponse,
    RoomCompositeEgressRequest,
    S3Upload,
    StopEgressRequest,
)

SAMPLE_RATE = 16_000
LONGEST_SECONDS = 60.0
RUNNING = (EgressStatus.EGRESS_STARTING, EgressStatus.EGRESS_ACTIVE, EgressStatus.EGRESS_ENDING)


class EgressFaults(msgspec.Struct, frozen=True, kw_only=True):
    refuse_starts: bool = False  # StartRoomCompositeEgress answers Twirp `unavailable`
    fail_egress: bool = False  # an egress ends EGRESS_FAILED, without a file
    lose_webhooks: bool = False  # egress webhooks are recorded, never delivered
    reorder_webhooks: bool = False  # an egress' webhooks are delivered newest first, all at its end
    upload_delay_seconds: float = 0.0


class EgressRefused(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code = code


def ogg_tone(seconds: float) -> bytes:
    """A real OGG Vorbis file a browser plays: a quiet 440 Hz tone of `seconds` (at least one)."""
    length = max(1.0, min(seconds, LONGEST_SECONDS))
    t = numpy.arange(int(SAMPLE_RATE * length)) / SAMPLE_RATE
    samples = (0.2 * numpy.sin(2 * math.pi * 440 * t)).astype(numpy.float32)
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, SAMPLE_RATE, format="OGG", subtype="VORBIS")
    return buffer.getvalue()


async def upload(target: S3Upload, key: str, body: bytes) -> None:
    """PUT the file with the credentials the egress request carried, as LiveKit's egress does."""
    config = Config(
        s3={"addressing_style": "path" if target.force_path_style else "auto"},
        retries={"max_attempts": 1},
        connect_timeout=5,
        read_timeout=10,
    )
    async with get_session().create_client(
        "s3",
        region_name=target.region or "us-east-1",
        endpoint_url=target.endpoint or None,
        aws_access_key_id=target.access_key,
        aws_secret_access_key=target.secret,
        config=config,
    ) as client:
        await client.put_object(Bucket=target.bucket, Key=key, Body=body, ContentType="audio/ogg")


@dataclass
class Egresses:
    """The egresses of the stand-in, by id; `report` sends webhook events (deliver=False records them only)."""

    report: Callable[..., Awaitable[Any]]
    items: dict[str, EgressInfo] = field(default_factory=dict)
    targets: dict[str, tuple[S3Upload, str]] = field(default_factory=dict)
    held: dict[str, list[WebhookEvent]] = field(default_factory=dict)
    faults: EgressFaults = field(default_factory=EgressFaults)
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def _event(self, kind: str, info: EgressInfo) -> WebhookEvent:
        event = WebhookEvent(event=kind, id=f"EV_{secrets.token_hex(6)}", created_at=int(time.time()))
        event.egress_info.CopyFrom(info)
        return event

    async def _tell(self, info: EgressInfo, kind: str, *, last: bool = False) -> None:
        event = self._event(kind, info)
        if self.faults.reorder_webhooks:
            held = self.held.setdefault(info.egress_id, [])
            held.append(event)
            if last:
                await self.report(list(reversed(self.held.pop(info.egress_id))))
            return
        await self.report([event], deliver=not self.faults.lose_webhooks)

    def _later(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def start(self, request: RoomCompositeEgressRequest, room_sid: str | None) -> EgressInfo:
        if self.faults.refuse_starts:
            raise EgressRefused("unavailable", "the stand-in plays an egress outage")
        if room_sid is None:
            raise EgressRefused("not_found", "requested room does not exist")
        if not request.audio_only or len(request.file_outputs) != 1 or not request.file_outputs[0].HasField("s3"):
            raise EgressRefused("invalid_argument", "the stand-in records audio-only rooms to one S3 file")
        output = request.file_outputs[0]
        info = EgressInfo(
            egress_id=f"EG_{secrets.token_hex(6)}",
            room_id=room_sid,
            room_name=request.room_name,
            status=EgressStatus.EGRESS_STARTING,
            started_at=time.time_ns(),
        )
        info.room_composite.CopyFrom(request)
        self.items[info.egress_id] = info
        self.targets[info.egress_id] = (output.s3, output.filepath)

        async def going() -> None:
            await self._tell(info, "egress_started")
            info.status = EgressStatus.EGRESS_ACTIVE
            info.updated_at = time.time_ns()
            await self._tell(info, "egress_updated")

        self._later(going())
        return info

    def stop(self, request: StopEgressRequest) -> EgressInfo:
        info = self.items.get(request.egress_id)
        if info is None:
            raise EgressRefused("not_found", "egress does not exist")
        if info.status not in RUNNING:
            raise EgressRefused("failed_precondition", "egress is not running")
        self._end(info)
        return info

    def room_closed(self, room_name: str) -> None:
        """Its room ended: every egress still running in it ends too."""
        for info in list(self.items.values()):
            if info.room_name == room_name and info.status in (
                EgressStatus.EGRESS_STARTING,
                EgressStatus.EGRESS_ACTIVE,
            ):
                self._end(info)

    def _end(self, info: EgressInfo) -> None:
        info.status = EgressStatus.EGRESS_ENDING
        self._later(self._finish(info))

    async def _finish(self, info: EgressInfo) -> None:
        target, key = self.targets[info.egress_id]
        if self.faults.upload_delay_seconds:
            await asyncio.sleep(self.faults.upload_delay_seconds)
        ended_at = time.time_ns()
        seconds = (ended_at - info.started_at) / 1e9
        info.ended_at = info.updated_at = ended_at
        if self.faults.fail_egress:
            info.status, info.error = EgressStatus.EGRESS_FAILED, "the stand-in plays a failed egress"
        else:
            body = ogg_tone(seconds)
            try:
                await upload(target, key, body)
            except (BotoCoreError, ClientError, OSError) as error:
                info.status, info.error = EgressStatus.EGRESS_FAILED, f"upload failed: {type(error).__name__}"
            else:
                info.status = EgressStatus.EGRESS_COMPLETE
                duration_ns = int(max(1.0, min(seconds, LONGEST_SECONDS)) * 1e9)
                info.file_results.append(
                    FileInfo(
                        filename=key,
                        started_at=info.started_at,
                        ended_at=ended_at,
                        duration=duration_ns,
                        size=len(body),
                        location=f"s3://{target.bucket}/{key}",
                    )
                )
        await self._tell(info, "egress_ended", last=True)

    def listed(self, request: ListEgressRequest) -> ListEgressResponse:
        found = [
            info
            for info in self.items.values()
            if (not request.room_name or info.room_name == request.room_name)
            and (not request.egress_id or info.egress_id == request.egress_id)
            and (not request.active or info.status in RUNNING)
        ]
        return ListEgressResponse(items=found)

    async def settled(self) -> None:
        await asyncio.gather(*self.background, return_exceptions=True)
