"""Credentials and environments shared by tests: a Clerk instance's key pair, the identity service's env."""

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from deploy.dev.secrets import DevSecrets
from deploy.dev.stack import identity_environment
from deploy.dev.standins.clerk.session_tokens import DEV_APP_ORIGIN

CLERK_SECRET_KEY = "sk_test_standin0123456789abcdef"
INTERNAL_TOKEN = "internal-token-for-tests-0123456789"
LIVEKIT_KEY = "APItestkey"
LIVEKIT_SECRET = "livekit-test-secret-that-is-long-enough-0123456789"
FRONTEND_ORIGIN = DEV_APP_ORIGIN


class ClerkKeyPair:
    """The RSA key pair of a Clerk instance: the private half signs session tokens in tests."""

    def __init__(self, key_id: str = "ins_standin") -> None:
        self.key_id = key_id
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_pem = (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


# What the tests' services run with beyond deploy.dev.stack's environments: a short Clerk timeout (outage
# tests), a LiveKit key pair of their own and a default agent.
TEST_ENVIRONMENT = {
    "identity": {"CLERK_API_TIMEOUT_SECONDS": "0.5"},
    "sessions": {
        "LIVEKIT_API_KEY": LIVEKIT_KEY,
        "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
        "LIVEKIT_DEFAULT_AGENT": "interviewer",
    },
}


def secrets_for_tests(svix_secret: str, keys: ClerkKeyPair | None = None) -> DevSecrets:
    """The tests' credentials in the dev stack's shape (`keys`: the session-token key pair, if sessions runs)."""
    return DevSecrets(
        svix_secret=svix_secret,
        clerk_secret_key=CLERK_SECRET_KEY,
        internal_token=INTERNAL_TOKEN,
        jwt_private_pem=keys.private_pem if keys else "",
        jwt_public_pem=keys.public_pem if keys else "",
    )


def identity_env(database_url: str, clerk_url: str, svix_secret: str) -> dict[str, str]:
    """The identity service's environment in tests."""
    secrets = secrets_for_tests(svix_secret)
    return identity_environment(secrets, database_url=database_url, clerk_url=clerk_url) | TEST_ENVIRONMENT["identity"]


def jwk(keys: ClerkKeyPair) -> dict[str, Any]:
    """The public half as a JWK, the way Clerk publishes it in its JWKS."""
    public = json.loads(RSAAlgorithm.to_jwk(serialization.load_pem_public_key(keys.public_pem.encode())))
    return {**public, "kid": keys.key_id, "use": "sig", "alg": "RS256"}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying `token`."""
    return {"Authorization": f"Bearer {token}"}
