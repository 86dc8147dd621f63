"""LiveKit's server webhooks: verified over the raw body, then applied idempotently."""

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from livekit.api import TokenVerifier

from libs.common.db import Database
from services.sessions.interviews import apply_livekit_event
from services.sessions.livekit_webhooks import read_livekit_webhook


class LiveKitReceipt(msgspec.Struct, frozen=True):
    outcome: str


@post("/webhooks/livekit", status_code=200, tags=["webhooks"], summary="Receive a LiveKit server webhook")
async def receive_livekit_webhook(
    request: Request[Any, Any, Any],
    database: NamedDependency[Database],
    livekit_verifier: NamedDependency[TokenVerifier],
) -> LiveKitReceipt:
    body = await request.body()
    auth = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    event = read_livekit_webhook(livekit_verifier, body, auth)
    return LiveKitReceipt(outcome=await apply_livekit_event(database, event))
