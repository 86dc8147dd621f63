"""The sessions service application: owns interviews; the frontend calls it with a Clerk session."""

import functools
import logging
import warnings

from jwt.warnings import InsecureKeyLengthWarning
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import SecurityScheme
from livekit.api import TokenVerifier

from libs.common.app import build_service_app, from_environment
from libs.common.background import periodic
from libs.common.db import Database
from libs.common.livekit_api import LiveKitServer
from services.sessions.agents.auth import AgentAuthenticationMiddleware
from services.sessions.agents.routes import AgentInterviewsController
from services.sessions.auth.middleware import ClerkAuthenticationMiddleware
from services.sessions.auth.tokens import session_verifier
from services.sessions.interviews.participant_tokens import ParticipantTokens
from services.sessions.interviews.routes import InterviewsController, LiveKitController
from services.sessions.organizations.candidate_routes import preview, redeem
from services.sessions.organizations.erasure import ORGANIZATIONS_FEED
from services.sessions.organizations.routes import org_router
from services.sessions.recordings.deletions import deletions_task
from services.sessions.recordings.egress import LiveKitEgress, Upload
from services.sessions.recordings.egress_queue import egress_tasks
from services.sessions.recordings.storage import Bucket, RecordingStorage
from services.sessions.rights.retention import retention_tasks
from services.sessions.rights.routes import delete_mine, export_mine
from services.sessions.rooms.reconciler import reconciler_tasks
from services.sessions.rooms.removals import removals_task
from services.sessions.rooms.room_service import LiveKitRooms
from services.sessions.rooms.routes import receive_livekit_webhook
from services.sessions.runtime import Runtime
from services.sessions.settings import SessionsSettings, load_sessions_settings
from services.sessions.users.feeds import feed_task
from services.sessions.users.identity_client import IdentityClient
from services.sessions.users.user_feed import USERS_FEED

logger = logging.getLogger(__name__)


SECURITY_SCHEMES = {
    "ClerkSession": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="A Clerk session token (or the `__session` cookie, from the app's own origins).",
    ),
    "LiveKitWebhookSignature": SecurityScheme(
        type="apiKey",
        name="Authorization",
        security_scheme_in="header",
        description="The JWT a LiveKit server signs each webhook with (its API key pair, the body's sha256), sent "
        "without `Bearer`.",
    ),
    "LiveKitAccessToken": SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT",
        description="A LiveKit access token minted with this project's API key pair, granting roomAdmin over the "
        "interview's room: what the agent dispatched into it holds.",
    ),
}

BROWSER_REQUEST_HEADERS = ["Authorization", "Content-Type", "X-Request-ID"]
"""What a frontend sends: Clerk's session token, JSON bodies (livekit-client's TokenSource), a request id."""


def browser_cors(origins: tuple[str, ...]) -> CORSConfig | None:
    """CORS for `/api/*`: exactly `origins` (never `*`, never a reflected origin), with credentials (the
    `__session` cookie), preflights cached for 10 minutes; None (no grant at all) without origins."""
    if not origins:
        logger.warning("no browser origin is granted CORS: set CLERK_AUTHORIZED_PARTIES (or CORS_ALLOWED_ORIGINS)")
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=BROWSER_REQUEST_HEADERS,
        allow_credentials=True,
        expose_headers=["Retry-After", "X-Request-ID"],
        max_age=600,
    )


def create_app(settings: SessionsSettings) -> Litestar:
    if len(settings.livekit_api_secret.encode()) < 32:
        # `livekit-server --dev` uses "secret"; say so once instead of a PyJWT warning per token.
        logger.warning("LIVEKIT_API_SECRET is shorter than 32 bytes: fine for livekit-server --dev, not production")
        warnings.filterwarnings("ignore", category=InsecureKeyLengthWarning)
    database = Database(settings.database_url, max_size=settings.database_pool_size)
    identity = IdentityClient(
        settings.identity_url, settings.internal_api_token, timeout=settings.identity_timeout_seconds
    )
    key_pair = settings.livekit_api_key, settings.livekit_api_secret
    livekit_verifier = TokenVerifier(*key_pair)
    tokens = ParticipantTokens(*key_pair, settings.livekit_token_ttl_seconds)
    livekit = LiveKitServer(settings.room_service_url, *key_pair)
    rooms = LiveKitRooms(livekit)
    storage, egress = recording_clients(settings, livekit)
    verifier = session_verifier(settings)
    api = Router(
        path="/api",
        route_handlers=[LiveKitController, InterviewsController, org_router, redeem, preview, delete_mine, export_mine],
        middleware=[
            DefineMiddleware(
                ClerkAuthenticationMiddleware, verifier=verifier, browser_origins=frozenset(settings.browser_origins)
            )
        ],
        security=[{"ClerkSession": []}],
    )
    agent = Router(
        path="/agent",
        route_handlers=[AgentInterviewsController],
        middleware=[DefineMiddleware(AgentAuthenticationMiddleware, verifier=livekit_verifier)],
        security=[{"LiveKitAccessToken": []}],
    )
    return build_service_app(
        title="sessions",
        database=database,
        route_handlers=[api, agent, receive_livekit_webhook],
        security_schemes=SECURITY_SCHEMES,
        provides={"runtime": Runtime(settings, database, identity, livekit_verifier, tokens, rooms, storage)},
        cors_config=browser_cors(settings.browser_origins),
        cors_prefix="/api/",
        resources=[
            lambda: verifier.keys,
            lambda: identity,
            lambda: livekit,
            *((lambda: storage,) if storage else ()),
            *(
                functools.partial(periodic, "sessions", task)
                for task in (
                    *reconciler_tasks(
                        database,
                        rooms,
                        settings.interview_reconcile_seconds,
                        settings.max_interview_seconds,
                        settings.agent_report_grace_seconds,
                    ),
                    feed_task(USERS_FEED, database, identity),
                    feed_task(ORGANIZATIONS_FEED, database, identity),
                    removals_task(database, rooms, settings.max_interview_seconds),
                    *retention_tasks(
                        database,
                        settings.retention_run_seconds,
                        settings.interview_retention_days,
                        settings.access_log_retention_days,
                    ),
                    *(
                        [
                            *egress_tasks(database, egress, settings.egress_retry_seconds),
                            deletions_task(database, storage, settings.storage_deletion_retry_seconds),
                        ]
                        if storage and egress
                        else []
                    ),
                )
            ),
        ],
    )


def recording_clients(
    settings: SessionsSettings, livekit: LiveKitServer
) -> tuple[RecordingStorage | None, LiveKitEgress | None]:
    """The bucket and LiveKit's Egress, when recordings are kept (`RECORDINGS_S3_BUCKET`); else neither."""
    if not settings.recording_enabled:
        return None, None
    bucket = Bucket(
        endpoint=settings.recordings_s3_endpoint,
        name=settings.recordings_s3_bucket,
        region=settings.recordings_s3_region,
        force_path_style=settings.recordings_s3_force_path_style,
    )
    storage = RecordingStorage(
        bucket, access_key=settings.recordings_s3_access_key, secret=settings.recordings_s3_secret
    )
    upload_key, upload_secret = settings.upload_credentials
    upload = Upload(bucket=bucket, access_key=upload_key, secret=upload_secret)
    return storage, LiveKitEgress(livekit, upload)


def app_from_environment() -> Litestar:
    """What `serve` runs in each worker."""
    return from_environment("sessions", load_sessions_settings, create_app)
