"""Clerk's webhooks, delivered by Svix: verified over the raw body, then applied exactly once.

A plain ASGI route (Litestar's `@asgi`) rather than a `@post` handler: Svix posts bytes that must be verified
as they are, so there is no body to parse and no content to negotiate, and Litestar's per-request machinery
(request object, kwargs and signature model, response object) was a quarter of identity's CPU per event. The
app's middleware still runs around it (access log, metrics, problem+json errors). Being plain ASGI, it is not
in the OpenAPI document: its contract is Svix's and Clerk's (README, `POST /webhooks/clerk`).
"""

import msgspec
from litestar import asgi
from litestar.handlers import ASGIRouteHandler
from litestar.types import HTTPScope, Receive, Send
from svix.webhooks import WebhookVerificationError

from libs.common.app import MAX_REQUEST_BODY_BYTES
from libs.common.raw_asgi import read_body, require_method, send_json
from services.identity.errors import InvalidWebhookSignature
from services.identity.metrics import WEBHOOK_EVENTS
from services.identity.runtime import Runtime
from services.identity.users import WebhookOutcome, apply_clerk_event

SVIX_HEADERS = frozenset({b"svix-id", b"svix-timestamp", b"svix-signature"})


class WebhookReceipt(msgspec.Struct, frozen=True):
    outcome: WebhookOutcome


def clerk_webhook_route(runtime: Runtime) -> ASGIRouteHandler:
    """`POST /webhooks/clerk`: 2xx tells Svix "done, do not retry"; 503 (database down) makes it redeliver
    later; a missing, wrong or stale signature is a 401 and changes nothing."""

    @asgi("/webhooks/clerk", is_mount=False, copy_scope=False)
    async def receive_clerk_webhook(scope: HTTPScope, receive: Receive, send: Send) -> None:
        require_method(scope, "POST")
        body = await read_body(scope, receive, MAX_REQUEST_BODY_BYTES)
        headers = {name.decode(): value.decode("latin-1") for name, value in scope["headers"] if name in SVIX_HEADERS}
        try:
            runtime.svix_verifier.verify(body, headers)
        except (WebhookVerificationError, ValueError) as error:
            WEBHOOK_EVENTS.labels("unknown", "rejected").inc()
            raise InvalidWebhookSignature("The Svix signature is missing, wrong or too old.") from error
        outcome = await apply_clerk_event(runtime.database, headers["svix-id"], body)
        await send_json(send, WebhookReceipt(outcome=outcome))

    return receive_clerk_webhook
