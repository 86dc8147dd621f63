"""LiveKit participant tokens, minted locally with livekit-api: one room, the grants an interview needs."""

from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format
from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, VideoGrants

from services.sessions.errors import InvalidRoomConfig


def parse_room_config(data: dict[str, Any] | None, default_agent: str) -> RoomConfiguration | None:
    """LiveKit's own `RoomConfiguration` from the protobuf JSON a client sent (snake_case or camelCase), so
    every field passes through; the default agent is dispatched when the request names none."""
    config = RoomConfiguration()
    if data:
        try:
            json_format.ParseDict(data, config, ignore_unknown_fields=True)
        except json_format.ParseError as error:
            raise InvalidRoomConfig(f"room_config is not a LiveKit RoomConfiguration: {error}") from error
    if not config.agents and default_agent:
        config.agents.append(RoomAgentDispatch(agent_name=default_agent))
    return config if config.ByteSize() else None


def agent_name(config: RoomConfiguration | None) -> str | None:
    return config.agents[0].agent_name if config is not None and config.agents else None


def mint_participant_token(
    *,
    api_key: str,
    api_secret: str,
    ttl_seconds: int,
    identity: str,
    name: str,
    room: str,
    room_config: RoomConfiguration | None = None,
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
    )
    if room_config is not None:
        token = token.with_room_config(room_config)
    if metadata:
        token = token.with_metadata(metadata)
    if attributes:
        token = token.with_attributes(attributes)
    return token.to_jwt(), datetime.now(UTC) + timedelta(seconds=ttl_seconds)
