"""Hostile inputs for the tests: arbitrary JSON of every type and depth, and JWTs signed over any JSON."""

import base64
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Deterministic, so a red run names a product bug that the next run reproduces; the app fixtures are reused
# across examples on purpose (each example asserts on what it changed).
HOSTILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def nested(depth: int) -> str:
    """`depth` arrays inside each other: small in bytes, deeper than any recursive JSON decoder goes."""
    return "[" * depth + "]" * depth


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(private_pem: str, header: Any, claims: Any) -> str:
    """A compact JWT whose header and claims are any JSON at all, with a valid RS256 signature: what only the
    holder of the signing key can send, and what a verifier must still survive."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def unsigned_jwt(header: Any, claims: Any = None) -> str:
    """A JWT with no signature at all (what anyone can send)."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims or {}).encode())}."
