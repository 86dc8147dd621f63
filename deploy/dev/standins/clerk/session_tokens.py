"""Clerk-style session tokens (RS256 JWTs with Clerk's claims), as Clerk's frontend API would issue them."""

import secrets
import time

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

DEV_ISSUER = "https://dev-standin.clerk.accounts.dev"
DEV_APP_ORIGIN = "http://localhost:3000"
"""The development frontend's origin: the `azp` of the stand-in's session tokens, the app's authorized party."""


def signing_key(private_pem: str) -> RSAPrivateKey:
    """The instance's private key, parsed once: parsing a PEM costs more than signing with it."""
    key = load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise TypeError("a Clerk instance signs with an RSA key")
    return key


def mint_session_token(
    key: str | RSAPrivateKey,
    *,
    subject: str,
    lifetime_seconds: int = 60,
    authorized_party: str | None = DEV_APP_ORIGIN,
    issued_at: float | None = None,
    key_id: str = "ins_standin",
    issuer: str = DEV_ISSUER,
) -> str:
    """A session token for `subject` (a Clerk user id): Clerk's claims (`sid`, `iss`, `azp`, `v`, `sts`...),
    60 s lifetime by default like Clerk's, signed with the instance's RSA private key (a PEM, or parsed once
    with `signing_key` by callers that mint many)."""
    now = int(time.time() if issued_at is None else issued_at)
    claims = {
        "sub": subject,
        "sid": f"sess_{secrets.token_hex(12)}",
        "iss": issuer,
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime_seconds,
        "v": 2,
        "fva": [0, -1],
        "sts": "active",
    }
    if authorized_party is not None:
        claims["azp"] = authorized_party
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})
