"""LiveKit participant tokens, minted locally by livekit-api's `AccessToken`: one room, the grants an interview
needs, the room's configuration (agent dispatch) for LiveKit to apply when the join creates the room."""

from datetime import UTC, datetime, timedelta

from livekit.api import AccessToken, RoomConfiguration, VideoGrants


class ParticipantTokens:
    """Tokens signed with the API key pair, valid `ttl_seconds`."""

    def __init__(self, api_key: str, api_secret: str, ttl_seconds: int) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._ttl = timedelta(seconds=ttl_seconds)

    def expiry(self, issued_at: int) -> datetime:
        """When a token issued at `issued_at` (Unix seconds) expires."""
        return datetime.fromtimestamp(issued_at, UTC) + self._ttl

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
        grants = VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True)
        token = (
            AccessToken(self._api_key, self._api_secret)
            .with_identity(identity)
            .with_grants(grants)
            .with_ttl(self._ttl)
            .with_room_config(room_config)
        )
        if name:
            token = token.with_name(name)
        if metadata:
            token = token.with_metadata(metadata)
        if attributes:
            token = token.with_attributes(attributes)
        return token.to_jwt()
