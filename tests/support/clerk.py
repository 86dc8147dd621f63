"""The Clerk stand-in from a test's side: users whose webhook has not arrived, and deliveries as Svix makes them."""

import uuid
from datetime import datetime
from typing import Any

import httpx
import msgspec

from deploy.dev.standins.clerk.signing import sign_webhook


async def clerk_user(clerk: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A user who signed up in Clerk but whose webhook has not reached identity."""
    response = await clerk.post("/_standin/users", json={**fields, "deliver": False})
    response.raise_for_status()
    return response.json()["user"]


async def deliver(
    identity: httpx.AsyncClient,
    secret: str,
    event: dict[str, Any] | bytes,
    *,
    svix_id: str | None = None,
    timestamp: datetime | None = None,
) -> httpx.Response:
    """POST `event` (a dict, or a body sent byte for byte) to the webhook endpoint exactly as Svix would,
    signed with `secret`."""
    body = event if isinstance(event, bytes) else msgspec.json.encode(event)
    headers = sign_webhook(secret, body, msg_id=svix_id or f"msg_{uuid.uuid4().hex}", timestamp=timestamp)
    return await identity.post("/webhooks/clerk", content=body, headers={**headers, "Content-Type": "application/json"})
