"""LiveKit's server webhooks: verified over the raw body, then applied idempotently."""

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency

from libs.common.openapi import problems
from services.sessions.rooms.events import apply_livekit_event
from services.sessions.rooms.webhooks import read_livekit_webhook
from services.sessions.runtime import Runtime


class LiveKitReceipt(msgspec.Struct, frozen=True):
    outcome: str


@post(
    "/webhooks/livekit",
    status_code=200,
    tags=["webhooks"],
    summary="Receive a LiveKit server webhook",
    description="Point LiveKit's webhook configuration here. `Authorization` carries the JWT LiveKit signs with the "
    "API key pair over the body's sha256 (no `Bearer`): a wrong one is 401 and changes nothing; a signed event "
    "we cannot read is 400.",
    security=[{"LiveKitWebhookSignature": []}],
    responses=problems(400, 401, 408, 413, 503),
)
async def receive_livekit_webhook(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
) -> LiveKitReceipt:
    body = await request.body()
    auth = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    event = read_livekit_webhook(runtime.livekit_verifier, body, auth)
    return LiveKitReceipt(outcome=await apply_livekit_event(runtime, event))
