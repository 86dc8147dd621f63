"""LiveKit from a test's side: tokens read back with livekit-api, webhooks signed as a LiveKit server signs them."""

import base64
import hashlib
import time
from datetime import timedelta
from typing import Any

import httpx
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, ParticipantInfo, Room, TokenVerifier, VideoGrants, WebhookEvent
from livekit.api.access_token import Claims
from livekit.protocol.egress import EgressInfo, FileInfo

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
    return _signed(message)


def _signed(message: WebhookEvent) -> tuple[bytes, str]:
    body = MessageToJson(message).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return body, AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_sha256(digest).to_jwt()


def egress_webhook(
    event: str, egress_id: str, room: str, status: int, *, key: str | None = None, size: int = 0, seconds: float = 0
) -> tuple[bytes, str]:
    """An egress event (`egress_started`, `egress_updated`, `egress_ended`) as LiveKit signs it, its `EgressInfo` in
    `status`; with `key`, the file it uploaded there (`size` bytes, `seconds` long: `FileInfo.duration` is in
    nanoseconds). Each call is a new event `id`."""
    info = EgressInfo(egress_id=egress_id, room_name=room, status=status)  # type: ignore[arg-type]
    if key is not None:
        info.file_results.append(FileInfo(filename=key, size=size, duration=int(seconds * 1e9)))
    message = WebhookEvent(event=event, created_at=int(time.time()), id=f"EV_{time.time_ns()}")
    message.egress_info.CopyFrom(info)
    return _signed(message)


class LiveKitStandin:
    """The LiveKit stand-in's control API: clients join with their participant tokens, leave, rooms close;
    `deliver=False` records an event without sending it (a webhook LiveKit lost), `redeliver` sends it later."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def join(self, token: str, *, kick_reported_first: bool = False, deliver: bool = True) -> dict[str, Any]:
        """`{"room", "sid", "events": [{"id", "event", "status"}]}`."""
        return await self._post(
            "/_standin/join", {"token": token, "kick_reported_first": kick_reported_first, "deliver": deliver}
        )

    async def leave(self, room: str, identity: str, *, deliver: bool = True) -> dict[str, Any]:
        return await self._post("/_standin/leave", {"room": room, "identity": identity, "deliver": deliver})

    async def close(self, room: str, *, deliver: bool = True) -> dict[str, Any]:
        return await self._post(f"/_standin/rooms/{room}/close", {"deliver": deliver})

    async def redeliver(self, event_id: str) -> dict[str, Any]:
        return await self._post(f"/_standin/events/{event_id}/redeliver", {})

    async def rooms(self) -> dict[str, dict[str, Any]]:
        response = await self.http.get("/_standin/rooms")
        return {room["name"]: room for room in response.json()["rooms"]}

    async def calls(self, method: str) -> list[dict[str, Any]]:
        response = await self.http.get("/_standin/calls")
        return [call for call in response.json()["calls"] if call["method"] == method]

    async def set_unavailable(self, unavailable: bool) -> None:
        (await self.http.put("/_standin/faults", json={"unavailable": unavailable})).raise_for_status()

    async def set_slow(self, delay_seconds: float) -> None:
        """RoomService answers each call after `delay_seconds` (0: at once)."""
        (await self.http.put("/_standin/faults", json={"delay_seconds": delay_seconds})).raise_for_status()

    async def set_egress_faults(self, **faults: bool | float) -> None:
        """Egress faults (`refuse_starts`, `fail_egress`, `lose_webhooks`, `reorder_webhooks`,
        `upload_delay_seconds`); none given: all off."""
        (await self.http.put("/_standin/egress/faults", json=faults)).raise_for_status()

    async def egresses(self, room: str) -> list[dict[str, Any]]:
        response = await self.http.get("/_standin/egresses")
        return [egress for egress in response.json()["egresses"] if egress["room_name"] == room]


def agent_token(room: str, identity: str = "agent-AJ_interviewer") -> str:
    """What LiveKit's agent worker joins with when dispatched."""
    grants = VideoGrants(room_join=True, room=room, agent=True)
    return (
        AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_identity(identity).with_kind("agent").with_grants(grants).to_jwt()
    )


def agent_write_token(
    room: str, *, key: str = LIVEKIT_KEY, secret: str = LIVEKIT_SECRET, room_admin: bool = True, ttl_seconds: int = 600
) -> str:
    """What an agent worker mints to write its interview's transcript and report: roomAdmin over its room."""
    grants = VideoGrants(room=room, room_admin=room_admin)
    token = AccessToken(key, secret).with_identity("agent-writer").with_grants(grants)
    return token.with_ttl(timedelta(seconds=ttl_seconds)).to_jwt()


async def send_webhook(sessions: httpx.AsyncClient, body: bytes, auth: str) -> httpx.Response:
    """POST a LiveKit webhook (a `livekit_webhook` body and its Authorization value) to sessions."""
    return await sessions.post(
        "/webhooks/livekit", content=body, headers={"Authorization": auth, "Content-Type": "application/webhook+json"}
    )


async def report_join(sessions: httpx.AsyncClient, room: str, identity: str) -> None:
    """LiveKit's webhook for the candidate joining `room` (its interview becomes active, no longer one a start
    hands back as unused)."""
    response = await send_webhook(sessions, *livekit_webhook("participant_joined", room, identity=identity))
    assert response.json()["outcome"] == "applied"
