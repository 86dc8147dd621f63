"""Configuration of the sessions service, read from the environment (names fixed by ARCHITECTURE.md)."""

from collections.abc import Mapping
from typing import Annotated

import msgspec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from libs.common.settings import NonEmptyStr, SettingsError, load_settings

ORIGIN = r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$"
"""A browser origin, exactly: scheme, host and port, no path, no wildcard."""
BUCKET = r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$"
"""An S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens), or empty: none."""


class SessionsSettings(msgspec.Struct, frozen=True, kw_only=True, rename="upper"):
    database_url: NonEmptyStr
    internal_api_token: Annotated[str, msgspec.Meta(min_length=16)]
    identity_url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$")]
    clerk_jwt_key: str = ""
    clerk_jwks_url: Annotated[str, msgspec.Meta(pattern=r"^(https?://\S+)?$")] = ""
    clerk_authorized_parties: tuple[Annotated[str, msgspec.Meta(pattern=ORIGIN)], ...] = ()
    clerk_issuer: Annotated[str, msgspec.Meta(pattern=ORIGIN)] = ""  # empty: unset (derived, or not checked)
    clerk_audience: str = ""
    cors_allowed_origins: tuple[Annotated[str, msgspec.Meta(pattern=ORIGIN)], ...] = ()
    livekit_url: Annotated[str, msgspec.Meta(pattern=r"^(wss?|https?)://\S+$")] = "ws://localhost:7880"
    livekit_api_key: NonEmptyStr = "devkey"
    livekit_api_secret: NonEmptyStr = "secret"  # noqa: S105 (the key pair of `livekit-server --dev`)
    livekit_token_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=86_400)] = 900
    livekit_default_agent: str = ""
    livekit_agents: tuple[str, ...] = ()
    livekit_api_url: Annotated[str, msgspec.Meta(pattern=r"^((wss?|https?)://\S+)?$")] = ""
    interview_reconcile_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 60
    max_interview_seconds: Annotated[int, msgspec.Meta(ge=60, le=7 * 86_400)] = 3600
    max_open_interviews_per_user: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 3
    identity_recheck_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 300
    identity_stale_if_error_seconds: Annotated[int, msgspec.Meta(ge=0, le=30 * 86_400)] = 86_400
    identity_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)] = 3.0
    database_pool_size: Annotated[int, msgspec.Meta(ge=1, le=200)] = 10
    agent_report_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=7 * 86_400)] = 600
    org_recruiter_roles: tuple[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9:_-]{1,64}$")], ...] = (
        "admin",
        "recruiter",
    )
    invite_url_template: Annotated[str, msgspec.Meta(pattern=r"^https?://\S*\{code\}\S*$")] = (
        "http://localhost:3000/invite/{code}"
    )
    org_admin_roles: tuple[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9:_-]{1,64}$")], ...] = ("admin",)
    # Recordings (no bucket: recording is off). Any S3-compatible store; an empty endpoint is AWS's own.
    recordings_s3_endpoint: Annotated[str, msgspec.Meta(pattern=r"^(https?://\S+)?$")] = ""
    recordings_s3_bucket: Annotated[str, msgspec.Meta(pattern=BUCKET)] = ""
    recordings_s3_region: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]{1,32}$")] = "us-east-1"
    recordings_s3_access_key: str = ""
    recordings_s3_secret: str = ""
    recordings_s3_force_path_style: bool = False
    recordings_upload_access_key: str = ""  # the write-only pair LiveKit's egress uploads with; default: the above
    recordings_upload_secret: str = ""
    recording_url_seconds: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 300
    storage_deletion_retry_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    egress_retry_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 2.0
    # Retention (rights): interviews outside any organization, access records, and how often the task runs.
    interview_retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    access_log_retention_days: Annotated[int, msgspec.Meta(ge=183, le=3650)] = 183
    retention_run_seconds: Annotated[int, msgspec.Meta(ge=0, le=7 * 86_400)] = 3600

    @property
    def room_service_url(self) -> str:
        """Where RoomService answers: `LIVEKIT_API_URL`, else `LIVEKIT_URL` with ws→http, wss→https."""
        url = self.livekit_api_url or self.livekit_url
        return "http" + url.removeprefix("ws") if url.startswith("ws") else url

    @property
    def browser_origins(self) -> tuple[str, ...]:
        """Origins granted CORS on `/api/*`: `CORS_ALLOWED_ORIGINS`, else `CLERK_AUTHORIZED_PARTIES`."""
        return self.cors_allowed_origins or self.clerk_authorized_parties

    @property
    def recruiter_roles(self) -> frozenset[str]:
        """Organization roles that manage templates and invites and review interviews (`ORG_RECRUITER_ROLES`,
        written with or without Clerk's `org:` prefix)."""
        return frozenset(role.removeprefix("org:") for role in self.org_recruiter_roles)

    @property
    def admin_roles(self) -> frozenset[str]:
        """Organization roles that set the organization's retention and read its access log (`ORG_ADMIN_ROLES`)."""
        return frozenset(role.removeprefix("org:") for role in self.org_admin_roles)

    @property
    def recording_enabled(self) -> bool:
        """Whether recordings are kept anywhere (`RECORDINGS_S3_BUCKET` set): without, none is ever started."""
        return bool(self.recordings_s3_bucket)

    @property
    def upload_credentials(self) -> tuple[str, str]:
        """The pair LiveKit's egress uploads with: `RECORDINGS_UPLOAD_*`, else the service's own."""
        if self.recordings_upload_access_key:
            return self.recordings_upload_access_key, self.recordings_upload_secret
        return self.recordings_s3_access_key, self.recordings_s3_secret

    @property
    def allowed_agents(self) -> frozenset[str]:
        """Agents a client may ask for: `LIVEKIT_AGENTS` and the default agent."""
        return frozenset(self.livekit_agents) | ({self.livekit_default_agent} if self.livekit_default_agent else set())


MIN_RSA_BITS = 2048


def rsa_public_key(pem: str) -> RSAPublicKey:
    """The RSA public key of a PEM (newlines may come escaped as `\\n` from an env file); at least 2048 bits."""
    key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    if not isinstance(key, RSAPublicKey):
        raise TypeError("not an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"an RSA key of {key.key_size} bits (at least {MIN_RSA_BITS} are required)")
    return key


def load_sessions_settings(environ: Mapping[str, str]) -> SessionsSettings:
    """Load and cross-check: exactly one of CLERK_JWT_KEY (a PEM RSA public key) or CLERK_JWKS_URL."""
    settings = load_settings(SessionsSettings, environ)
    if bool(settings.clerk_jwt_key) == bool(settings.clerk_jwks_url):
        raise SettingsError(["exactly one of CLERK_JWT_KEY or CLERK_JWKS_URL must be set"])
    problems = []
    if bool(settings.recordings_s3_access_key) != bool(settings.recordings_s3_secret):
        problems.append("RECORDINGS_S3_ACCESS_KEY and RECORDINGS_S3_SECRET are set together or not at all")
    if bool(settings.recordings_upload_access_key) != bool(settings.recordings_upload_secret):
        problems.append("RECORDINGS_UPLOAD_ACCESS_KEY and RECORDINGS_UPLOAD_SECRET are set together or not at all")
    if settings.recording_enabled and not all(settings.upload_credentials):
        problems.append(
            "RECORDINGS_S3_BUCKET is set, but LiveKit's egress has no pair to upload with: set "
            "RECORDINGS_UPLOAD_ACCESS_KEY and RECORDINGS_UPLOAD_SECRET (or RECORDINGS_S3_ACCESS_KEY and _SECRET)"
        )
    if problems:
        raise SettingsError(problems)
    if settings.clerk_jwt_key:
        try:
            rsa_public_key(settings.clerk_jwt_key)
        except (ValueError, TypeError) as error:
            raise SettingsError([f"CLERK_JWT_KEY is malformed: expected a PEM RSA public key ({error})"]) from error
    return settings
