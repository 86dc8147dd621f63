"""LiveKit participant tokens, minted locally with livekit-api: one room, the grants an interview needs."""

from datetime import UTC, datetime, timedelta

from livekit.api import AccessToken, RoomConfiguration, VideoGrants


def mint_participant_token(
    *,
    api_key: str,
    api_secret: str,
    ttl_seconds: int,
    identity: str,
    name: str,
    room: str,
    room_config: RoomConfiguration,
    metadata: str | None = None,
    attributes: dict[str, str] | None = None,
) -> tuple[str, datetime]:
    """A token to join `room` only, publishing and subscribing audio/video/data; returns it and its expiry."""
    grants = VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True)
    token = (
        AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_grants(grants)
        .with_ttl(timedelta(seconds=ttl_seconds))
        .with_room_config(room_config)
    )
    if metadata:
        token = token.with_metadata(metadata)
    if attributes:
        token = token.with_attributes(attributes)
    return token.to_jwt(), datetime.now(UTC) + timedelta(seconds=ttl_seconds)
