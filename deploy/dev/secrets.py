"""Development secrets, generated once and kept in the dev state folder so restarts keep working."""

import secrets
from pathlib import Path

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from deploy.dev.standins.clerk.signing import new_svix_secret


class DevSecrets(msgspec.Struct, frozen=True, kw_only=True):
    svix_secret: str
    clerk_secret_key: str
    internal_token: str
    jwt_private_pem: str  # signs development session tokens, as Clerk's instance key would
    jwt_public_pem: str  # CLERK_JWT_KEY of the sessions service


def _generate() -> DevSecrets:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return DevSecrets(
        svix_secret=new_svix_secret(),
        clerk_secret_key=f"sk_test_{secrets.token_urlsafe(24)}",
        internal_token=secrets.token_urlsafe(32),
        jwt_private_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        jwt_public_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )


def load_or_create_secrets(path: Path) -> DevSecrets:
    """The secrets in `path`, made (readable by the owner only) on first use."""
    if path.exists():
        return msgspec.json.decode(path.read_bytes(), type=DevSecrets)
    created = _generate()
    path.touch(mode=0o600)
    path.write_bytes(msgspec.json.format(msgspec.json.encode(created)))
    return created
