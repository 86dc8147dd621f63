"""Clerk's webhooks, delivered by Svix: verified over the raw body as it arrived, then applied exactly once."""

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from svix.webhooks import WebhookVerificationError

from libs.common.openapi import problems
from services.identity.clerk_events import WebhookOutcome, apply_clerk_event
from services.identity.errors import InvalidWebhookSignature
from services.identity.metrics import WEBHOOK_EVENTS
from services.identity.runtime import Runtime


class WebhookReceipt(msgspec.Struct, frozen=True):
    outcome: WebhookOutcome


def _svix_header(name: str) -> Any:
    return HeaderParameter(name=name, description="Set by Svix, signed over the raw body (its webhook verification).")


@post(
    "/webhooks/clerk",
    status_code=200,
    tags=["webhooks"],
    summary="Receive a Clerk webhook (Svix-signed): user.created, user.updated, user.deleted",
    description=(
        "Point Clerk's webhook endpoint here. 2xx tells Svix 'done, do not retry'; 503 (database down) makes it "
        "redeliver later; a missing, wrong or stale signature (svix-id, svix-timestamp, svix-signature over the "
        "raw body) is 401 and changes nothing; a signed event we cannot read is 400 (Svix retries it)."
    ),
    responses=problems(400, 401, 408, 413, 503),
)
async def receive_clerk_webhook(
    request: Request[Any, Any, Any],
    runtime: NamedDependency[Runtime],
    svix_id: Annotated[str | None, _svix_header("svix-id")] = None,
    svix_timestamp: Annotated[str | None, _svix_header("svix-timestamp")] = None,
    svix_signature: Annotated[str | None, _svix_header("svix-signature")] = None,
) -> WebhookReceipt:
    body = await request.body()  # the bytes Svix signed: never parsed before they are verified
    headers = {"svix-id": svix_id or "", "svix-timestamp": svix_timestamp or "", "svix-signature": svix_signature or ""}
    try:
        runtime.svix_verifier.verify(body, headers)
    except (WebhookVerificationError, ValueError) as error:  # a signature header without a comma: ValueError
        WEBHOOK_EVENTS.labels("unknown", "rejected").inc()
        raise InvalidWebhookSignature("The Svix signature is missing, wrong or too old.") from error
    return WebhookReceipt(outcome=await apply_clerk_event(runtime.database, headers["svix-id"], body))
