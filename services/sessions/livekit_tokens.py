"""LiveKit participant tokens, minted locally and signed by PyJWT: one room, the grants an interview needs, the
room's configuration (agent dispatch) for LiveKit to apply when the join creates the room.

The claims are exactly those livekit-api's `AccessToken` writes for the same grants (a unit test mints both
and compares them). They are written here as a dict, because `AccessToken` walks its dataclasses on every
token, which costs the start path more than the signature itself (deploy/k8s/CAPACITY.md).
"""

import base64
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from google.protobuf.json_format import MessageToDict
from jwt import PyJWK
from livekit.api import RoomConfiguration

_GRANTS = {"roomJoin": True, "canPublish": True, "canSubscribe": True, "canPublishData": True}


class ParticipantTokens:
    """Tokens signed with the API key pair (HS256, as LiveKit verifies them), valid `ttl_seconds`."""

    def __init__(self, api_key: str, api_secret: str, ttl_seconds: int) -> None:
        self._api_key = api_key
        # The secret as a key PyJWT prepares once, not on every token.
        secret = base64.urlsafe_b64encode(api_secret.encode()).rstrip(b"=").decode()
        self._key = PyJWK({"kty": "oct", "k": secret, "alg": "HS256"})
        self._ttl = ttl_seconds

    def expiry(self, issued_at: int) -> datetime:
        """When a token issued at `issued_at` (Unix seconds) expires."""
        return datetime.fromtimestamp(issued_at + self._ttl, UTC)

    def mint(
        self,
        *,
        identity: str,
        name: str,
        room: str,
        room_config: RoomConfiguration,
        metadata: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> str:
        """A token to join `room` only, publishing and subscribing audio/video/data, valid from now for the
        configured TTL (`expiry` of the second it is minted in)."""
        claims: dict[str, Any] = {"video": {**_GRANTS, "room": room}}
        if name:
            claims["name"] = name
        if metadata:
            claims["metadata"] = metadata
        if attributes:
            claims["attributes"] = attributes
        claims["roomConfig"] = MessageToDict(room_config)
        now = int(time.time())
        claims |= {"sub": identity, "iss": self._api_key, "nbf": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._key, algorithm="HS256")
