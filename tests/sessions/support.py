"""Helpers for sessions tests: Clerk users that exist only in the stand-in, LiveKit tokens and webhooks."""

import base64
import hashlib
import time
from typing import Any

import asyncpg
import httpx
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, ParticipantInfo, Room, TokenVerifier, WebhookEvent
from livekit.api.access_token import Claims

from tests.support.credentials import LIVEKIT_KEY, LIVEKIT_SECRET


async def clerk_user(clerk: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A user who signed up in Clerk but whose webhook has not reached identity."""
    response = await clerk.post("/_standin/users", json={**fields, "deliver": False})
    response.raise_for_status()
    return response.json()["user"]


def verify_livekit_token(token: str) -> Claims:
    return TokenVerifier(LIVEKIT_KEY, LIVEKIT_SECRET).verify(token)


def livekit_webhook(event: str, room: str, *, identity: str = "", created_at: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its Authorization value, signed the way LiveKit's server signs them."""
    message = WebhookEvent(
        event=event,
        room=Room(name=room, sid="RM_test"),
        created_at=created_at if created_at is not None else int(time.time()),
        id=f"EV_{time.time_ns()}",
    )
    if identity:
        message.participant.CopyFrom(ParticipantInfo(identity=identity, sid="PA_test"))
    body = MessageToJson(message).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return body, AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_sha256(digest).to_jwt()


async def interview_rows(database_url: str, sql: str = "SELECT * FROM interviews", *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        return [dict(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()
