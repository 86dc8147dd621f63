"""What the deploy files promise, stated once for the deploy tests: the configuration contract of
ARCHITECTURE.md and where the files are."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S_BASE = DEPLOY / "k8s" / "base"
K8S_OVERLAY = DEPLOY / "k8s" / "overlays" / "example"
# shared/ sits beside the repository (in CI too); the tests that read it skip when it is absent.
ARCHITECTURE_MD = ROOT.parent / "shared" / "design" / "ARCHITECTURE.md"

# The configuration table of ARCHITECTURE.md, per service ("both" rows in each). LOG_LEVEL and WEB_CONCURRENCY
# are read by the shared process entry (libs/common/cli.py), DATABASE_POOL_SIZE by both settings structs; the
# README documents all three, and they are allowed in addition.
IDENTITY_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "INTERNAL_API_TOKENS",
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "CLERK_SECRET_KEY",
        "CLERK_API_URL",
        "WEBHOOK_EVENTS_RETENTION_DAYS",
    }
)
SESSIONS_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "INTERNAL_API_TOKEN",
        "IDENTITY_URL",
        "CLERK_JWT_KEY",
        "CLERK_JWKS_URL",
        "CLERK_AUTHORIZED_PARTIES",
        "LIVEKIT_URL",
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "LIVEKIT_TOKEN_TTL_SECONDS",
        "LIVEKIT_DEFAULT_AGENT",
        "LIVEKIT_AGENTS",
        "LIVEKIT_API_URL",
        "INTERVIEW_RECONCILE_SECONDS",
        "MAX_INTERVIEW_SECONDS",
        "MAX_OPEN_INTERVIEWS_PER_USER",
        "IDENTITY_STALE_IF_ERROR_SECONDS",
        "IDENTITY_RECHECK_SECONDS",
        "CLERK_ISSUER",
        "CLERK_AUDIENCE",
        "CORS_ALLOWED_ORIGINS",
        "AGENT_REPORT_GRACE_SECONDS",
        "ORG_RECRUITER_ROLES",
        "INVITE_URL_TEMPLATE",
        "ORG_ADMIN_ROLES",
        "RECORDINGS_S3_ENDPOINT",
        "RECORDINGS_S3_BUCKET",
        "RECORDINGS_S3_REGION",
        "RECORDINGS_S3_ACCESS_KEY",
        "RECORDINGS_S3_SECRET",
        "RECORDINGS_S3_FORCE_PATH_STYLE",
        "RECORDINGS_UPLOAD_ACCESS_KEY",
        "RECORDINGS_UPLOAD_SECRET",
        "RECORDING_URL_SECONDS",
        "INTERVIEW_RETENTION_DAYS",
        "ACCESS_LOG_RETENTION_DAYS",
        "RETENTION_RUN_SECONDS",
        "STORAGE_DELETION_RETRY_SECONDS",
        "EGRESS_RETRY_SECONDS",
    }
)
VARIABLES = {"identity": IDENTITY_VARIABLES, "sessions": SESSIONS_VARIABLES}
EXTRA_VARIABLES = frozenset({"LOG_LEVEL", "WEB_CONCURRENCY", "DATABASE_POOL_SIZE"})
# Variables a running service cannot do without (sessions needs one of CLERK_JWKS_URL / CLERK_JWT_KEY too).
REQUIRED = {
    "identity": {"DATABASE_URL", "INTERNAL_API_TOKENS", "CLERK_WEBHOOK_SIGNING_SECRET", "CLERK_SECRET_KEY"},
    "sessions": {"DATABASE_URL", "INTERNAL_API_TOKEN", "IDENTITY_URL", "LIVEKIT_URL", "LIVEKIT_API_KEY"}
    | {"LIVEKIT_API_SECRET"},
}
# Values that must never sit in a manifest or ConfigMap in clear: they come from a Secret.
SECRET_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "INTERNAL_API_TOKENS",
        "INTERNAL_API_TOKEN",
        "CLERK_WEBHOOK_SIGNING_SECRET",
        "CLERK_SECRET_KEY",
        "LIVEKIT_API_SECRET",
    }
)
SERVICES = ("identity", "sessions")


def serve_args(service: str) -> list[str]:
    """The container arguments (after the image's `python -m` entrypoint) of the serve process."""
    return [f"services.{service}", "serve", "--host", "0.0.0.0", "--port", "8000"]


def migrate_args(service: str) -> list[str]:
    return [f"services.{service}", "migrate"]


def architecture_variables(text: str) -> dict[str, set[str]]:
    """The variable names per service in ARCHITECTURE.md's configuration table (`both` counts for each)."""
    found: dict[str, set[str]] = {"identity": set(), "sessions": set()}
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]))
        for service in ("identity", "sessions"):
            if cells[1] in (service, "both"):
                found[service] |= names
    return found
