"""Credentials and environments shared by tests: a Clerk instance's key pair, the identity service's env."""

import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLERK_SECRET_KEY = "sk_test_standin0123456789abcdef"
INTERNAL_TOKEN = "internal-token-for-tests-0123456789"
LIVEKIT_KEY = "APItestkey"
LIVEKIT_SECRET = "livekit-test-secret-that-is-long-enough-0123456789"
FRONTEND_ORIGIN = "http://localhost:3000"


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


def identity_env(database_url: str, clerk_url: str, svix_secret: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "INTERNAL_API_TOKENS": INTERNAL_TOKEN,
        "CLERK_WEBHOOK_SIGNING_SECRET": svix_secret,
        "CLERK_SECRET_KEY": CLERK_SECRET_KEY,
        "CLERK_API_URL": clerk_url,
        "CLERK_API_TIMEOUT_SECONDS": "0.5",
    }


def jwk(keys: ClerkKeyPair) -> dict[str, Any]:
    """The public half as a JWK, the way Clerk publishes it in its JWKS."""
    public = json.loads(RSAAlgorithm.to_jwk(serialization.load_pem_public_key(keys.public_pem.encode())))
    return {**public, "kid": keys.key_id, "use": "sig", "alg": "RS256"}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying `token`."""
    return {"Authorization": f"Bearer {token}"}
