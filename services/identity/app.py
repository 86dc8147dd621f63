"""The identity service application: owns users, fed by Clerk's webhooks and the ensure-user RPC."""

from litestar import Litestar, Router
from litestar.openapi.spec import SecurityScheme
from svix.webhooks import Webhook

from libs.common.app import build_service_app, from_environment
from libs.common.background import periodic
from libs.common.db import Database
from libs.common.internal_auth import internal_token_middleware
from services.identity.clerk import ClerkClient
from services.identity.pending_profiles import PendingProfiles
from services.identity.retention import pruning_task
from services.identity.routes.internal import InternalOrganizationsController, InternalUsersController
from services.identity.routes.webhooks import receive_clerk_webhook
from services.identity.runtime import Runtime
from services.identity.settings import IdentitySettings, load_identity_settings
from services.identity.users import UserCreations

INTERNAL_TOKEN = SecurityScheme(
    type="http",
    scheme="bearer",
    description="One of INTERNAL_API_TOKENS: what the sessions service sends (`INTERNAL_API_TOKEN`).",
)


def create_app(settings: IdentitySettings) -> Litestar:
    database = Database(settings.database_url, max_size=settings.database_pool_size)
    clerk = ClerkClient(settings.clerk_api_url, settings.clerk_secret_key, timeout=settings.clerk_api_timeout_seconds)
    svix_verifier = Webhook(settings.clerk_webhook_signing_secret)
    pending = PendingProfiles(database, clerk)

    runtime = Runtime(database, clerk, UserCreations(), pending, svix_verifier)
    internal = Router(
        path="/",
        route_handlers=[InternalUsersController, InternalOrganizationsController],
        middleware=[internal_token_middleware(settings.internal_api_tokens)],
        security=[{"InternalToken": []}],
    )
    return build_service_app(
        title="identity",
        database=database,
        route_handlers=[internal, receive_clerk_webhook],
        provides={"runtime": runtime},
        security_schemes={"InternalToken": INTERNAL_TOKEN},
        resources=[
            lambda: clerk,
            pending.running,
            lambda: periodic("identity", pruning_task(database, settings.webhook_events_retention_days)),
        ],
    )


def app_from_environment() -> Litestar:
    """What `serve` runs in each worker."""
    return from_environment("identity", load_identity_settings, create_app)
