"""The identity service application: owns users, fed by Clerk's webhooks and the ensure-user RPC."""

import os

from litestar import Litestar, Router
from svix.webhooks import Webhook

from libs.common.app import build_service_app
from libs.common.db import Database
from libs.common.internal_auth import internal_token_middleware
from libs.common.log import configure_logging
from services.identity.clerk import ClerkClient
from services.identity.pending_profiles import PendingProfiles
from services.identity.retention import pruning
from services.identity.routes.internal import InternalUsersController
from services.identity.routes.webhooks import receive_clerk_webhook
from services.identity.runtime import Runtime
from services.identity.settings import IdentitySettings, load_identity_settings
from services.identity.users import UserCreations


def create_app(settings: IdentitySettings) -> Litestar:
    database = Database(settings.database_url, max_size=settings.database_pool_size)
    clerk = ClerkClient(settings.clerk_api_url, settings.clerk_secret_key, timeout=settings.clerk_api_timeout_seconds)
    svix_verifier = Webhook(settings.clerk_webhook_signing_secret)
    pending = PendingProfiles(database, clerk)

    runtime = Runtime(database, clerk, UserCreations(), pending, svix_verifier)
    internal = Router(
        path="/",
        route_handlers=[InternalUsersController],
        middleware=[internal_token_middleware(settings.internal_api_tokens)],
    )
    return build_service_app(
        title="identity",
        database=database,
        route_handlers=[internal, receive_clerk_webhook],
        provides={"runtime": runtime},
        resources=[lambda: clerk, lambda: pending, lambda: pruning(database, settings.webhook_events_retention_days)],
    )


def app_from_environment() -> Litestar:
    """The app as `serve` builds it (in each worker, a process of its own when WEB_CONCURRENCY > 1, which
    starts without the parent's logging): configured from the environment."""
    configure_logging("identity", os.environ.get("LOG_LEVEL", "INFO"))
    return create_app(load_identity_settings(os.environ))
