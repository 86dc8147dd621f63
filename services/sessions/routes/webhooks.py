"""LiveKit's server webhooks: verified with livekit-api's WebhookReceiver, then applied idempotently."""

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from livekit.api import WebhookReceiver

from libs.common.db import Database
from libs.common.errors import Problem
from services.sessions.interviews import apply_livekit_event


class InvalidLiveKitWebhook(Problem):
    status = 401
    slug = "invalid-livekit-webhook"
    title = "Invalid LiveKit webhook"


class LiveKitReceipt(msgspec.Struct, frozen=True):
    outcome: str


@post("/webhooks/livekit", status_code=200, tags=["webhooks"], summary="Receive a LiveKit server webhook")
async def receive_livekit_webhook(
    request: Request[Any, Any, Any],
    database: NamedDependency[Database],
    livekit_receiver: NamedDependency[WebhookReceiver],
) -> LiveKitReceipt:
    body = await request.body()
    auth = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    try:
        event = livekit_receiver.receive(body.decode(), auth)
    except Exception as error:
        raise InvalidLiveKitWebhook("The webhook's signature or body hash does not verify.") from error
    return LiveKitReceipt(outcome=await apply_livekit_event(database, event))
