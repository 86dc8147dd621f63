"""The rooms a LiveKit server holds, and the webhook events it reports about them.

What this models of a real server: a room is created by the first join (with the `RoomConfiguration` carried
by that participant's token, agents dispatched then); the same identity joining again disconnects the older
participant with `DUPLICATE_IDENTITY`; removing a participant or deleting a room disconnects with
`PARTICIPANT_REMOVED` / `ROOM_DELETED`; every change is a `WebhookEvent` with a unique `id`.
"""

import secrets
import time
from dataclasses import dataclass, field

from livekit.api import ParticipantInfo, Room, RoomConfiguration, WebhookEvent
from livekit.api.access_token import Claims
from livekit.protocol.agent_dispatch import AgentDispatch
from livekit.protocol.models import DisconnectReason


class RoomFull(Exception):
    """The room already holds its `max_participants`."""


def _sid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


@dataclass
class LiveRoom:
    name: str
    config: RoomConfiguration
    sid: str = field(default_factory=lambda: _sid("RM"))
    creation_time: int = field(default_factory=lambda: int(time.time()))
    participants: dict[str, ParticipantInfo] = field(default_factory=dict)
    dispatches: list[AgentDispatch] = field(default_factory=list)

    def info(self) -> Room:
        return Room(
            sid=self.sid,
            name=self.name,
            creation_time=self.creation_time,
            num_participants=len(self.participants),
            max_participants=self.config.max_participants,
            empty_timeout=self.config.empty_timeout,
            departure_timeout=self.config.departure_timeout,
        )


@dataclass
class Rooms:
    rooms: dict[str, LiveRoom] = field(default_factory=dict)

    def _event(self, kind: str, room: LiveRoom, participant: ParticipantInfo | None = None) -> WebhookEvent:
        event = WebhookEvent(event=kind, room=room.info(), id=_sid("EV"), created_at=int(time.time()))
        if participant is not None:
            event.participant.CopyFrom(participant)
        return event

    def join(
        self, name: str, claims: Claims, *, kick_reported_first: bool = False
    ) -> tuple[ParticipantInfo, list[WebhookEvent]]:
        """`claims` of a verified token granting to join room `name`: the new participant and the events."""
        events: list[WebhookEvent] = []
        room = self.rooms.get(name)
        if room is None:
            config = claims.room_config or RoomConfiguration()
            room = self.rooms[name] = LiveRoom(name, config)
            room.dispatches = [
                AgentDispatch(id=_sid("AD"), agent_name=agent.agent_name, room=name, metadata=agent.metadata)
                for agent in config.agents
            ]
            events.append(self._event("room_started", room))
        older = room.participants.pop(claims.identity, None)
        limit = room.config.max_participants
        if limit and len(room.participants) >= limit:
            if older is not None:
                room.participants[claims.identity] = older
            raise RoomFull(f"room {name} is full ({limit} participants)")
        now_ms = time.time_ns() // 1_000_000
        joined = ParticipantInfo(
            sid=_sid("PA"),
            identity=claims.identity,
            name=claims.name or "",
            metadata=claims.metadata or "",
            kind=ParticipantInfo.Kind.AGENT if claims.kind == "agent" else ParticipantInfo.Kind.STANDARD,
            state=ParticipantInfo.State.ACTIVE,
            joined_at=now_ms // 1000,
            joined_at_ms=now_ms,
        )
        room.participants[claims.identity] = joined
        joined_event = self._event("participant_joined", room, joined)
        if older is not None:
            older.disconnect_reason = DisconnectReason.DUPLICATE_IDENTITY
            older.state = ParticipantInfo.State.DISCONNECTED
            kick = self._event("participant_left", room, older)
            events += [kick, joined_event] if kick_reported_first else [joined_event, kick]
        else:
            events.append(joined_event)
        return joined, events

    def leave(self, name: str, identity: str, reason: int) -> list[WebhookEvent]:
        """The participant disconnects (or is removed); KeyError if there is no such room or participant."""
        room = self.rooms[name]
        participant = room.participants.pop(identity)
        participant.disconnect_reason = reason  # type: ignore[assignment]
        participant.state = ParticipantInfo.State.DISCONNECTED
        return [self._event("participant_left", room, participant)]

    def close(self, name: str) -> list[WebhookEvent]:
        """The room is deleted: everyone in it is disconnected, then the room finishes; KeyError if absent."""
        room = self.rooms[name]
        events = [
            event
            for identity in list(room.participants)
            for event in self.leave(name, identity, DisconnectReason.ROOM_DELETED)
        ]
        del self.rooms[name]
        return [*events, self._event("room_finished", room)]
