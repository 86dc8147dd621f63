"""Helpers for identity tests: signed webhook deliveries and direct looks at the stored rows."""

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import msgspec

from libs.standins.clerk.signing import sign_webhook


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


async def rows(
    database_url: str, sql: str = "SELECT * FROM users ORDER BY clerk_id", *args: Any
) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(database_url)
    try:
        return [dict(row) for row in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def user_row(database_url: str, clerk_id: str) -> dict[str, Any] | None:
    found = await rows(database_url, "SELECT * FROM users WHERE clerk_id = $1", clerk_id)
    return found[0] if found else None


def millis(value: datetime | None) -> int | None:
    return None if value is None else round(value.astimezone(UTC).timestamp() * 1000)
