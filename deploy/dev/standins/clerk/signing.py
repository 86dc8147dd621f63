"""Svix signatures for Clerk webhooks, made with the real `svix` library."""

import base64
import secrets
from datetime import UTC, datetime

from svix.webhooks import Webhook


def new_svix_secret() -> str:
    """A webhook signing secret in Svix's format: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_svix_id() -> str:
    return f"msg_{secrets.token_hex(13)}"


def sign_webhook(
    secret: str, body: bytes, *, msg_id: str | None = None, timestamp: datetime | None = None
) -> dict[str, str]:
    """The `svix-id`, `svix-timestamp` and `svix-signature` headers Svix sends with `body`."""
    msg_id = msg_id or new_svix_id()
    timestamp = timestamp or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, body.decode())
    return {"svix-id": msg_id, "svix-timestamp": str(int(timestamp.timestamp())), "svix-signature": signature}
