"""What the sessions handlers work with, built once per app."""

from dataclasses import dataclass

from livekit.api import TokenVerifier

from libs.common.db import Database
from services.sessions.interviews.participant_tokens import ParticipantTokens
from services.sessions.recordings.storage import RecordingStorage
from services.sessions.rooms.room_service import LiveKitRooms
from services.sessions.settings import SessionsSettings
from services.sessions.users.identity_client import IdentityClient


@dataclass(frozen=True, slots=True)
class Runtime:
    """Injected as one dependency: Litestar resolves several dependencies of one handler in an anyio task
    group, on every request, and one dependency needs none (the cost is in deploy/k8s/CAPACITY.md)."""

    settings: SessionsSettings
    database: Database
    identity: IdentityClient
    livekit_verifier: TokenVerifier
    tokens: ParticipantTokens
    rooms: LiveKitRooms
    storage: RecordingStorage | None = None  # None: recording is off (no RECORDINGS_S3_BUCKET)
