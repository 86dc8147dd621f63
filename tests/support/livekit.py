"""LiveKit from a test's side: tokens read back with livekit-api, webhooks signed as a LiveKit server signs them."""

import base64
import hashlib
import time

from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, ParticipantInfo, Room, TokenVerifier, WebhookEvent
from livekit.api.access_token import Claims

from tests.support.credentials import LIVEKIT_KEY, LIVEKIT_SECRET


def verify_livekit_token(token: str) -> Claims:
    return TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)


def livekit_webhook(
    event: str,
    room: str,
    *,
    identity: str = "",
    sid: str = "PA_test",
    reason: int = 0,
    created_at: int | None = None,
) -> tuple[bytes, str]:
    """A webhook body and its Authorization value, signed the way LiveKit's server signs them; each call is
    a new event `id`, and a participant joined at `created_at`."""
    created_at = created_at if created_at is not None else int(time.time())
    message = WebhookEvent(
        event=event, room=Room(name=room, sid="RM_test"), created_at=created_at, id=f"EV_{time.time_ns()}"
    )
    if identity:
        participant = ParticipantInfo(identity=identity, sid=sid, joined_at=created_at, disconnect_reason=reason)
        message.participant.CopyFrom(participant)
    body = MessageToJson(message).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return body, AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_sha256(digest).to_jwt()
