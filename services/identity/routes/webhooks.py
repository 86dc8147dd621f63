"""Clerk's webhooks, delivered by Svix: verified over the raw body as it arrived, then applied exactly once."""

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from svix.webhooks import WebhookVerificationError

from services.identity.errors import InvalidWebhookSignature
from services.identity.metrics import WEBHOOK_EVENTS
from services.identity.runtime import Runtime
from services.identity.users import WebhookOutcome, apply_clerk_event

SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")


class WebhookReceipt(msgspec.Struct, frozen=True):
    outcome: WebhookOutcome


@post(
    "/webhooks/clerk",
    status_code=200,
    tags=["webhooks"],
    summary="Receive a Clerk webhook (Svix-signed): user.created, user.updated, user.deleted",
    description=(
        "Point Clerk's webhook endpoint here. 2xx tells Svix 'done, do not retry'; 503 (database down) makes it "
        "redeliver later; a missing, wrong or stale signature (svix-id, svix-timestamp, svix-signature over the "
        "raw body) is 401 and changes nothing."
    ),
)
async def receive_clerk_webhook(request: Request[Any, Any, Any], runtime: NamedDependency[Runtime]) -> WebhookReceipt:
    body = await request.body()  # the bytes Svix signed: never parsed before they are verified
    headers = {name: request.headers.get(name, "") for name in SVIX_HEADERS}
    try:
        runtime.svix_verifier.verify(body, headers)
    except (WebhookVerificationError, ValueError) as error:  # a signature header without a comma: ValueError
        WEBHOOK_EVENTS.labels("unknown", "rejected").inc()
        raise InvalidWebhookSignature("The Svix signature is missing, wrong or too old.") from error
    return WebhookReceipt(outcome=await apply_clerk_event(runtime.database, headers["svix-id"], body))
