"""Clerk-style session tokens (RS256 JWTs with Clerk's claims), as Clerk's frontend API would issue them."""

import secrets
import time

import jwt

DEV_ISSUER = "https://dev-standin.clerk.accounts.dev"


def mint_session_token(
    private_pem: str,
    *,
    subject: str,
    lifetime_seconds: int = 60,
    authorized_party: str | None = "http://localhost:3000",
    issued_at: float | None = None,
    key_id: str = "ins_standin",
    issuer: str = DEV_ISSUER,
) -> str:
    """A session token for `subject` (a Clerk user id): Clerk's claims (`sid`, `iss`, `azp`, `v`, `sts`...),
    60 s lifetime by default like Clerk's, signed with the instance's RSA private key."""
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
    return jwt.encode(claims, private_pem, algorithm="RS256", headers={"kid": key_id})
