"""What a client may ask of its interview's room, and what the server sets itself.

A client's `room_config` (LiveKit's `RoomConfiguration` as protobuf JSON) may name one agent, from
`LIVEKIT_AGENTS` or the default agent, and give that agent a metadata string; any other field it sets is
refused with 422 naming it (LiveKit's endpoint docs: "for fields clients aren't allowed to set, return a
4xx"). Fields unknown to this livekit-api are ignored, for clients newer than us. The server sets the rest:
the dispatch metadata that tells the agent which interview it serves, and limits fit for one candidate.
"""

import uuid
from typing import Any

import msgspec
from google.protobuf import json_format
from google.protobuf.message import Message
from livekit.api import RoomConfiguration

from services.sessions.errors import InvalidRoomConfig

CLIENT_AGENT_FIELDS = frozenset({"agent_name", "metadata"})
MAX_AGENT_METADATA_BYTES = 4096
EMPTY_TIMEOUT_SECONDS = 300  # a room nobody has joined yet closes after this (LiveKit's default)
DEPARTURE_TIMEOUT_SECONDS = 60  # after the last one leaves: room for a reload or a dropped network to rejoin
SPARE_PARTICIPANTS = 1  # a rejoin's new connection may be counted before the older one is dropped


class AgentChoice(msgspec.Struct, frozen=True):
    """The agent to dispatch, and the client's metadata for it (None when it sent none)."""

    name: str
    metadata: str | None = None


def _set_fields(message: Message) -> list[str]:
    return [descriptor.name for descriptor, _ in message.ListFields()]


def requested_agent(room_config: dict[str, Any] | None, allowed: frozenset[str], default: str) -> AgentChoice | None:
    """The agent the client asked for (the default agent when it named none, None when there is neither)."""
    by_default = AgentChoice(default) if default else None
    if not room_config:
        return by_default  # most starts ask nothing: no message to build
    config = RoomConfiguration()
    try:
        json_format.ParseDict(room_config, config, ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise InvalidRoomConfig(f"room_config is not a LiveKit RoomConfiguration: {error}") from error
    for name in _set_fields(config):
        if name != "agents":
            raise InvalidRoomConfig(f"room_config.{name} is set by the server; a client may not set it.")
    if len(config.agents) > 1:
        raise InvalidRoomConfig("room_config.agents: an interview has at most one agent.")
    if not config.agents:
        return by_default
    agent = config.agents[0]
    for name in _set_fields(agent):
        if name not in CLIENT_AGENT_FIELDS:
            raise InvalidRoomConfig(f"room_config.agents[0].{name} is set by the server; a client may not set it.")
    if agent.agent_name not in allowed:
        raise InvalidRoomConfig("room_config.agents[0].agent_name is not an agent this service dispatches.")
    if len(agent.metadata.encode()) > MAX_AGENT_METADATA_BYTES:
        raise InvalidRoomConfig(f"room_config.agents[0].metadata is over {MAX_AGENT_METADATA_BYTES} bytes.")
    return AgentChoice(agent.agent_name, agent.metadata or None)  # proto3: "" and absent are one


class PinnedTemplate(msgspec.Struct, frozen=True):
    """An organization's interview's template, at the version it started with."""

    id: uuid.UUID
    version: int


def room_configuration(
    agent: AgentChoice | None, interview_id: uuid.UUID, clerk_id: str, template: PinnedTemplate | None = None
) -> RoomConfiguration:
    """The room's `RoomConfiguration`, which a participant token carries (and LiveKit applies when that
    participant's join creates the room). The agent's dispatch metadata names the interview, the candidate and,
    for an organization's interview, its template (the agent reads the brief with it) and never the client's
    metadata: a candidate's own text never reaches the agent that scores them beside the template."""
    config = RoomConfiguration(
        empty_timeout=EMPTY_TIMEOUT_SECONDS,
        departure_timeout=DEPARTURE_TIMEOUT_SECONDS,
        max_participants=1 + (agent is not None) + SPARE_PARTICIPANTS,
    )
    if agent is not None:
        metadata = agent.metadata if template is None else None
        context: dict[str, Any] = {"interview_id": str(interview_id), "clerk_id": clerk_id, "metadata": metadata}
        if template is not None:
            context["template"] = {"id": str(template.id), "version": template.version}
        config.agents.add(agent_name=agent.name, metadata=msgspec.json.encode(context).decode())
    return config
