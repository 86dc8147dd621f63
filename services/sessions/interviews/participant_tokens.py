"""LiveKit participant tokens, minted locally and signed by PyJWT: one room, the grants an interview needs, the
room's configuration (agent dispatch) for LiveKit to apply when the join creates the room.

The claims are exactly those livekit-api's `AccessToken` writes for the same grants (a unit test mints both
and compares them). They are written here as a dict, because `AccessToken` walks its dataclasses on every
token, which costs the start path more than the signature itself (deploy/k8s/CAPACITY.md).

A token asked for again with the same claims shortly after it was minted is handed back as it was minted (see
`ParticipantTokens`): a repeated start then signs nothing.
"""

import base64
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from google.protobuf.json_format import MessageToDict
from jwt import PyJWK
from livekit.api import RoomConfiguration

from libs.common.remembered import Remembered

_GRANTS = {"roomJoin": True, "canPublish": True, "canSubscribe": True, "canPublishData": True}


class ParticipantTokens:
    """Tokens signed with the API key pair (HS256, as LiveKit verifies them), valid `ttl_seconds`.

    The same claims asked for within `reuse_seconds` (a thirtieth of the TTL: 30 s of the default 900) get the
    token minted for them then, so every token handed out has at least 29/30 of its life ahead, far more than
    livekit-client asks of a token it keeps (60 s). Clients fetch a token on every page load, reconnect and
    remount, often several within a second; a token minted for exactly these claims grants exactly what a new
    one would, and LiveKit tokens cannot be revoked either way. At most `REMEMBERED` tokens are kept (the oldest
    forgotten first)."""

    REMEMBERED = 4_096

    def __init__(self, api_key: str, api_secret: str, ttl_seconds: int) -> None:
        self._api_key = api_key
        # The secret as a key PyJWT prepares once, not on every token.
        secret = base64.urlsafe_b64encode(api_secret.encode()).rstrip(b"=").decode()
        self._key = PyJWK({"kty": "oct", "k": secret, "alg": "HS256"})
        self._ttl = ttl_seconds
        self.reuse_seconds = ttl_seconds // 30
        self._minted: Remembered[tuple[Any, ...], tuple[str, int]] = Remembered(self.REMEMBERED)  # -> (token, nbf)

    def expiry(self, issued_at: int) -> datetime:
        """When a token issued at `issued_at` (Unix seconds) expires, as an interview records it: rounded up to a
        whole `reuse_seconds`, never before the token's own `exp`. The starts of one such window record the same
        expiry, so a start handing back an unused interview writes nothing until its new token outlives it."""
        step = max(1, self.reuse_seconds)
        return datetime.fromtimestamp(-(-(issued_at + self._ttl) // step) * step, UTC)

    def mint(
        self,
        *,
        identity: str,
        name: str,
        room: str,
        room_config: RoomConfiguration,
        metadata: str | None = None,
        attributes: dict[str, str] | None = None,
        issued_at: int | None = None,
    ) -> str:
        """A token to join `room` only, publishing and subscribing audio/video/data, valid from `issued_at` (Unix
        seconds, default now) for the configured TTL, so never past `expiry(issued_at)`; or the one minted for the
        same claims within `reuse_seconds` before it."""
        now = int(time.time()) if issued_at is None else issued_at
        attributes_key = tuple(sorted(attributes.items())) if attributes else None
        key = (identity, name, room, metadata, attributes_key, room_config.SerializeToString(deterministic=True))
        minted = self._minted.get(key)
        if minted is not None and now - minted[1] < self.reuse_seconds:
            return minted[0]
        claims: dict[str, Any] = {"video": {**_GRANTS, "room": room}}
        if name:
            claims["name"] = name
        if metadata:
            claims["metadata"] = metadata
        if attributes:
            claims["attributes"] = attributes
        claims["roomConfig"] = MessageToDict(room_config)
        claims |= {"sub": identity, "iss": self._api_key, "nbf": now, "exp": now + self._ttl}
        token = jwt.encode(claims, self._key, algorithm="HS256")
        self._minted.put(key, (token, now))
        return token
