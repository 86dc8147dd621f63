"""LiveKit server webhooks, read the way livekit-api's `WebhookReceiver` reads them (a JWT signed with the API
secret, carrying the body's sha256, sent without `Bearer`), with each failure mapped to a 4xx by its type:
the receiver itself raises a bare `Exception` for a hash mismatch, which cannot be told from a bug."""

import base64
import binascii
import hashlib
import hmac

import jwt
from google.protobuf import json_format
from livekit.api import TokenVerifier, WebhookEvent

from services.sessions.errors import InvalidLiveKitWebhook, MalformedLiveKitWebhook

MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold


def read_livekit_webhook(verifier: TokenVerifier, body: bytes, auth: str) -> WebhookEvent:
    """The verified event. `InvalidLiveKitWebhook` (401) unless signed with our API secret over exactly this
    body; `MalformedLiveKitWebhook` (400) when signed but unreadable or out of range."""
    try:
        claims = verifier.verify(auth)
        signed_digest = base64.b64decode(claims.sha256 or "", validate=True)
    # PyJWT's errors; then the claims' grants mapped by livekit-api, which raise these for claims of another
    # JSON type (only a holder of the secret can sign such a token); binascii.Error is a ValueError.
    except (jwt.InvalidTokenError, binascii.Error, ValueError, TypeError, AttributeError) as error:
        raise InvalidLiveKitWebhook("The webhook's signature does not verify.") from error
    if not hmac.compare_digest(signed_digest, hashlib.sha256(body).digest()):
        raise InvalidLiveKitWebhook("The webhook's body does not match its signed hash.")
    try:
        event = json_format.Parse(body, WebhookEvent(), ignore_unknown_fields=True)
    # ParseError: not protojson; ValueError: not UTF-8; RecursionError: nested beyond what json can read.
    except (json_format.ParseError, ValueError, RecursionError) as error:
        raise MalformedLiveKitWebhook("The webhook body is not a LiveKit WebhookEvent.") from error
    if not 0 <= event.created_at <= MAX_EPOCH_SECONDS:
        raise MalformedLiveKitWebhook(f"Webhook {event.id!r}: createdAt is out of range.")
    return event
