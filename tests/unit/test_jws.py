"""Compact RS256 JWTs read strictly: what PyJWT accepts for a session token, we accept with the same claims;
what it refuses (or a signature over anything else), we refuse."""

import base64
import json
from typing import Any

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.sessions.jws import MalformedToken, SignedToken
from tests.support.credentials import ClerkKeyPair
from tests.support.hostile import signed_jwt

KEYS = ClerkKeyPair()
CLAIMS = {"sub": "user_2abc", "sid": "sess_1", "exp": 2_000_000_000, "iat": 1_700_000_000, "extra": [1, {"a": None}]}
claims_decoder = msgspec.json.Decoder(dict[str, Any])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: Any = None, claims: Any = None) -> str:
    return signed_jwt(KEYS.private_pem, header or {"alg": "RS256", "kid": KEYS.key_id}, claims or CLAIMS)


def public_key() -> Any:
    return KEYS.private_key.public_key()


def test_a_well_signed_token_reads_as_pyjwt_reads_it():
    signed = SignedToken(token())

    assert signed.header.kid == KEYS.key_id
    assert signed.claims(public_key(), claims_decoder) == jwt.decode(
        token(), public_key(), algorithms=["RS256"], options={"verify_exp": False}
    )


def replace_segment(compact: str, index: int, segment: str) -> str:
    parts = compact.split(".")
    parts[index] = segment
    return ".".join(parts)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda t: t + ".x", id="four-segments"),
        pytest.param(lambda t: t.rsplit(".", 1)[0], id="two-segments"),
        pytest.param(lambda t: replace_segment(t, 0, b64(b'{"alg": "none"}')), id="alg-none"),
        pytest.param(lambda t: replace_segment(t, 0, b64(b'{"alg": "HS256"}')), id="alg-hs256"),
        pytest.param(lambda t: replace_segment(t, 0, b64(b'{"alg": "RS256", "crit": ["b64"]}')), id="crit"),
        pytest.param(lambda t: replace_segment(t, 0, b64(b'{"alg": 7}')), id="alg-number"),
        pytest.param(lambda t: replace_segment(t, 0, b64(b"[" * 100_000 + b"]" * 100_000)), id="deep-header"),
        pytest.param(lambda t: t[:-1] + ("B" if t[-1] == "A" else "A"), id="signature-changed"),
        pytest.param(lambda t: t + "=", id="padded-signature"),
        pytest.param(lambda t: t[:10] + "!" + t[11:], id="junk-in-header"),
        pytest.param(lambda t: t[:10] + "é" + t[11:], id="non-ascii"),
        pytest.param(
            lambda t: replace_segment(t, 1, b64(json.dumps({**CLAIMS, "sub": "user_evil"}).encode())),
            id="claims-swapped",
        ),
    ],
)
def test_anything_else_is_refused(bad: Any):
    with pytest.raises(MalformedToken):
        SignedToken(bad(token())).claims(public_key(), claims_decoder)


def test_a_non_canonical_encoding_of_the_same_bytes_is_refused():
    compact = token()
    signature = compact.rsplit(".", 1)[1]
    # 256 signature bytes leave 2 unused bits in the last character: setting one keeps the bytes, not the text
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twisted = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    assert twisted != signature

    with pytest.raises(MalformedToken):
        SignedToken(replace_segment(compact, 2, twisted)).claims(public_key(), claims_decoder)


def test_a_key_that_is_not_rsa_is_refused():
    with pytest.raises(MalformedToken):
        SignedToken(token()).claims(ec.generate_private_key(ec.SECP256R1()).public_key(), claims_decoder)


def test_claims_that_do_not_fit_the_expected_type_are_a_decode_error():
    with pytest.raises(msgspec.DecodeError):
        SignedToken(token(claims=["not", "an", "object"])).claims(public_key(), claims_decoder)
