"""LiveKit participant tokens, minted locally: one room, the grants an interview needs.

The claims are exactly those livekit-api's `AccessToken` writes for these grants (a unit test mints both and
compares them), built and signed here directly: AccessToken walks its dataclasses, converts the room
configuration message and lets PyJWT prepare the key on every token, which was an eighth of the start path's
CPU. An HS256 JWT is base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256 of the two).
"""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import msgspec

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_GRANTS = {"canPublish": True, "canSubscribe": True, "canPublishData": True}


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class ParticipantTokens:
    """Tokens signed with the API key pair, valid `ttl_seconds`."""

    def __init__(self, api_key: str, api_secret: str, ttl_seconds: int) -> None:
        self._api_key = api_key
        self._secret = api_secret.encode()
        self._ttl = ttl_seconds

    def expiry(self, issued_at: int) -> datetime:
        """When a token issued at `issued_at` (Unix seconds) expires."""
        return datetime.fromtimestamp(issued_at + self._ttl, UTC)

    def mint(
        self,
        *,
        issued_at: int,
        identity: str,
        name: str,
        room: str,
        room_config: dict[str, Any],
        metadata: str | None = None,
        attributes: dict[str, str] | None = None,
    ) -> str:
        """A token to join `room` only, publishing and subscribing audio/video/data, valid from `issued_at`
        (Unix seconds) until `expiry(issued_at)`. `room_config` is a `RoomConfiguration` in protobuf JSON."""
        claims: dict[str, Any] = {"video": {"roomJoin": True, "room": room, **_GRANTS}, "roomConfig": room_config}
        if name:
            claims["name"] = name
        if metadata:
            claims["metadata"] = metadata
        if attributes:
            claims["attributes"] = attributes
        claims |= {"sub": identity, "iss": self._api_key, "nbf": issued_at, "exp": issued_at + self._ttl}
        signed = _HEADER + b"." + _b64(msgspec.json.encode(claims))
        signature = _b64(hmac.new(self._secret, signed, hashlib.sha256).digest())
        return (signed + b"." + signature).decode()
