"""Configuration of the identity service, read from the environment (names fixed by ARCHITECTURE.md)."""

from collections.abc import Mapping
from typing import Annotated

import msgspec

from libs.common.settings import NonEmptyStr, load_settings


class IdentitySettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    database_url: NonEmptyStr
    internal_api_tokens: Annotated[tuple[Annotated[str, msgspec.Meta(min_length=16)], ...], msgspec.Meta(min_length=1)]
    clerk_webhook_signing_secret: Annotated[str, msgspec.Meta(pattern=r"^whsec_[A-Za-z0-9+/=]+$")]
    clerk_secret_key: Annotated[str, msgspec.Meta(pattern=r"^sk_(test|live)_\S+$")]
    clerk_api_url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")] = "https://api.clerk.com"
    clerk_api_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)] = 2.0
    database_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    # At least 2: Svix retries a message for about 28 hours, and its record is what makes a retry a duplicate.
    webhook_events_retention_days: Annotated[int, msgspec.Meta(ge=2, le=3650)] = 30


def load_identity_settings(environ: Mapping[str, str]) -> IdentitySettings:
    return load_settings(IdentitySettings, environ)
