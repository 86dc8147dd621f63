"""Clerk-style session tokens (RS256 JWTs with Clerk's claims), as Clerk's frontend API would issue them."""

import secrets
import time
from typing import Any, NamedTuple

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


class ActiveOrganization(NamedTuple):
    """The organization a session has active: its id, slug, and the member's role as Clerk names it (`org:admin`)."""

    id: str
    slug: str
    role: str


def organization_claims(organization: ActiveOrganization, version: int) -> dict[str, Any]:
    """Session token v2's `o` (role without `org:`), or v1's `org_id`, `org_slug`, `org_role`."""
    role = organization.role if organization.role.startswith("org:") else f"org:{organization.role}"
    if version == 1:
        return {"org_id": organization.id, "org_slug": organization.slug, "org_role": role, "org_permissions": []}
    return {
        "o": {"id": organization.id, "slg": organization.slug, "rol": role.removeprefix("org:"), "per": "", "fpm": ""}
    }


def profile_claims(user: dict[str, Any]) -> dict[str, Any]:
    """What an app's customized session token adds (Dashboard → Sessions → Customize session token:
    `{"email": "{{user.primary_email_address}}", "first_name": "{{user.first_name}}", ...}`): a template variable
    with nothing behind it renders as null."""
    primary = user.get("primary_email_address_id")
    email = next((e["email_address"] for e in user.get("email_addresses", []) if e["id"] == primary), None)
    return {
        "email": email,
        "first_name": user.get("first_name"),
        "last_name": user.get("last_name"),
        "username": user.get("username"),
        "image_url": user.get("image_url"),
    }


def mint_session_token(
    key: str | RSAPrivateKey,
    *,
    subject: str,
    lifetime_seconds: int = 60,
    authorized_party: str | None = DEV_APP_ORIGIN,
    issued_at: float | None = None,
    key_id: str = "ins_standin",
    issuer: str = DEV_ISSUER,
    organization: ActiveOrganization | None = None,
    claims_version: int = 2,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A session token for `subject` (a Clerk user id): Clerk's claims (`sid`, `iss`, `azp`, `v`, `sts`...),
    60 s lifetime by default like Clerk's, the active organization if any (`claims_version` 2's `o`, or 1's
    `org_*`), an app's custom claims (`extra_claims`, e.g. `profile_claims`), signed with the instance's RSA
    private key (a PEM, or parsed once with `signing_key` by callers that mint many)."""
    now = int(time.time() if issued_at is None else issued_at)
    claims = {
        "sub": subject,
        "sid": f"sess_{secrets.token_hex(12)}",
        "iss": issuer,
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime_seconds,
        "v": claims_version,
        "fva": [0, -1],
        "sts": "active",
    }
    if authorized_party is not None:
        claims["azp"] = authorized_party
    if organization is not None:
        claims |= organization_claims(organization, claims_version)
    claims |= extra_claims or {}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})
