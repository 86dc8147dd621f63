"""Clerk's webhooks, delivered by Svix: verified over the raw body, then applied exactly once."""

from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from svix.webhooks import WebhookVerificationError

from services.identity.errors import InvalidWebhookSignature
from services.identity.metrics import WEBHOOK_EVENTS
from services.identity.runtime import Runtime
from services.identity.users import WebhookOutcome, apply_clerk_event

SVIX_HEADERS = frozenset({b"svix-id", b"svix-timestamp", b"svix-signature"})


class WebhookReceipt(msgspec.Struct, frozen=True):
    outcome: WebhookOutcome


@post("/webhooks/clerk", status_code=200, tags=["webhooks"], summary="Receive a Clerk webhook (Svix-signed)")
async def receive_clerk_webhook(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
) -> WebhookReceipt:
    """2xx tells Svix "done, do not retry"; 503 (database down) makes it redeliver later."""
    body = await request.body()
    # read from the raw ASGI headers (lower-case names): the request's header mapping costs more than the rest
    headers = {
        name.decode(): value.decode("latin-1") for name, value in request.scope["headers"] if name in SVIX_HEADERS
    }
    try:
        runtime.svix_verifier.verify(body, headers)
    except (WebhookVerificationError, ValueError) as error:
        WEBHOOK_EVENTS.labels("unknown", "rejected").inc()
        raise InvalidWebhookSignature("The Svix signature is missing, wrong or too old.") from error
    return WebhookReceipt(outcome=await apply_clerk_event(runtime.database, headers["svix-id"], body))
