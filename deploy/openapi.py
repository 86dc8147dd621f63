"""Write each service's OpenAPI document to `deploy/openapi/<service>.json` (a test fails when they drift).

python -m deploy.openapi
"""

import json
from pathlib import Path
from typing import Any

from services.identity.app import create_app as create_identity
from services.identity.settings import IdentitySettings
from services.sessions.app import create_app as create_sessions
from services.sessions.settings import SessionsSettings

OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"

# Settings only shape the apps' routes, never their schemas; placeholders suffice (nothing is connected).
_IDENTITY = IdentitySettings(
    database_url="postgresql://schema-only/identity",
    internal_api_tokens=("placeholder-token-0123456789",),
    clerk_webhook_signing_secret="whsec_cGxhY2Vob2xkZXI=",
    clerk_secret_key="sk_test_placeholder",
)
_SESSIONS = SessionsSettings(
    database_url="postgresql://schema-only/sessions",
    internal_api_token="placeholder-token-0123456789",
    identity_url="http://identity:8000",
    clerk_jwks_url="https://clerk.example/.well-known/jwks.json",
    livekit_api_secret="placeholder-secret-of-at-least-32-bytes",
)


def documents() -> dict[str, dict[str, Any]]:
    return {
        "identity": create_identity(_IDENTITY).openapi_schema.to_schema(),
        "sessions": create_sessions(_SESSIONS).openapi_schema.to_schema(),
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OPENAPI_DIR.mkdir(exist_ok=True)
    for service, document in documents().items():
        path = OPENAPI_DIR / f"{service}.json"
        path.write_text(render(document))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
