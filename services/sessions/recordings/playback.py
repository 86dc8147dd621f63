"""Hearing an interview: a presigned GET of its recording, valid `RECORDING_URL_SECONDS`, signed locally on each
request and never stored (the bucket stays private). The caller has already checked who may hear it."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg
import msgspec

from services.sessions.errors import RecordingNotFound, StillRecording
from services.sessions.recordings import store
from services.sessions.recordings.storage import RecordingStorage


class RecordingLink(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    expires_at: datetime
    content_type: Literal["audio/ogg"] = "audio/ogg"
    duration_ms: int | None
    size: int | None


async def playback_link(
    conn: asyncpg.Connection, storage: RecordingStorage | None, interview_id: uuid.UUID, seconds: int
) -> RecordingLink:
    """A link to the interview's finished recording: 404 when there is none (never recorded, failed, erased, or
    recording is off), 409 while it is still being recorded."""
    recording = await store.recording_of(conn, interview_id) if storage is not None else None
    if recording is None or recording.status in ("erased", "failed"):
        raise RecordingNotFound(f"Interview {interview_id} has no recording.")
    if recording.status != "complete":
        raise StillRecording(f"Interview {interview_id} is still being recorded; its file comes when it ends.")
    assert storage is not None
    expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    url = await storage.playback_url(recording.object_key, seconds)
    return RecordingLink(url=url, expires_at=expires_at, duration_ms=recording.duration_ms, size=recording.size)
