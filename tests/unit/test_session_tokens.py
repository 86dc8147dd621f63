"""Clerk session tokens as the sessions service verifies them (PyJWT underneath): never accepted where PyJWT,
called as Clerk's own SDK calls it, refuses; refused for what we check beyond it (sid, azp, sts, the subject's
shape, claim types, critical extensions); and `aud`, `iss`, JWKS `use` and key sizes handled as the contract
says."""

import math
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from libs.common.clerk_ids import is_clerk_user_id
from libs.common.settings import SettingsError
from services.sessions.auth.keys import ClerkKeys, usable_jwks_keys
from services.sessions.auth.tokens import LEEWAY_SECONDS, SessionVerifier
from services.sessions.errors import InvalidSessionToken
from services.sessions.settings import load_sessions_settings
from tests.support.credentials import FRONTEND_ORIGIN, ClerkKeyPair, jwk
from tests.support.hostile import HOSTILE, json_values, signed_jwt
from tests.support.waiting import eventually

KEYS = ClerkKeyPair()
ISSUER = "https://clerk.example.com"


def verifier(*, audience: str | None = None, parties: tuple[str, ...] = (FRONTEND_ORIGIN,)) -> SessionVerifier:
    return SessionVerifier(ClerkKeys(pem=KEYS.public_pem), parties, issuer=ISSUER, audience=audience)


def good_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "user_2abc",
        "sid": "sess_1",
        "iss": ISSUER,
        "azp": FRONTEND_ORIGIN,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 60,
        "sts": "active",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not ...}


def token(claims: Any, header: Any = None) -> str:
    return signed_jwt(KEYS.private_pem, header or {"alg": "RS256", "kid": KEYS.key_id, "typ": "JWT"}, claims)


async def verdict(verifier: SessionVerifier, compact: str) -> bool:
    try:
        await verifier.verify(compact)
    except InvalidSessionToken:
        return False
    return True


def pyjwt_accepts(compact: str) -> bool:
    """PyJWT's verdict with the options Clerk's SDK uses (RS256, leeway, issuer; no audience)."""
    try:
        jwt.decode(
            compact,
            KEYS.private_key.public_key(),
            algorithms=["RS256"],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except (jwt.PyJWTError, TypeError, ValueError):
        return False
    return True


def our_stricter_checks_pass(claims: Any, header: Any) -> bool:
    number = (int, float)
    return (
        isinstance(claims, dict)
        and "crit" not in header
        and is_clerk_user_id(claims.get("sub"))
        and isinstance(claims.get("sid"), str)
        and claims["sid"] != ""
        and claims.get("azp") == FRONTEND_ORIGIN
        and claims.get("sts") in (None, "active")
        and all(
            isinstance(claims.get(name), number) and not isinstance(claims.get(name), bool) for name in ("exp", "iat")
        )
        and (claims.get("nbf") is None or (isinstance(claims["nbf"], number) and not isinstance(claims["nbf"], bool)))
    )


async def test_a_clerk_session_token_is_accepted():
    session = await verifier().verify(token(good_claims()))

    assert (session.user_id, session.session_id) == ("user_2abc", "sess_1")


claim_names = st.sampled_from(["sub", "sid", "iss", "azp", "iat", "nbf", "exp", "sts", "aud"])


@HOSTILE
@given(
    changes=st.dictionaries(claim_names, json_values | st.just(...), max_size=3),
    header_extra=st.dictionaries(st.sampled_from(["crit", "kid", "typ", "b64"]), json_values, max_size=2),
)
async def test_the_verdict_is_pyjwts_plus_our_stricter_checks(changes: dict[str, Any], header_extra: dict[str, Any]):
    claims = good_claims(**changes)
    header = {"alg": "RS256", "kid": KEYS.key_id, **header_extra}
    compact = token(claims, header)

    expected = pyjwt_accepts(compact) and our_stricter_checks_pass(claims, header)
    assert await verdict(verifier(), compact) is expected


@HOSTILE
@given(claims=json_values)
async def test_any_json_at_all_as_claims_is_refused_or_a_session_never_an_error(claims: Any):
    compact = token(claims)

    assert await verdict(verifier(), compact) is (pyjwt_accepts(compact) and our_stricter_checks_pass(claims, {}))


@pytest.mark.parametrize(
    ("aud", "configured", "accepted"),
    [
        pytest.param("https://other-api.example", None, False, id="any-aud-refused-when-none-is-configured"),
        pytest.param(["https://other-api.example"], None, False, id="an-aud-list-refused-too"),
        pytest.param(..., "https://api.example.com", True, id="no-aud-names-no-other-audience"),
        pytest.param("https://api.example.com", "https://api.example.com", True, id="the-configured-audience"),
        pytest.param(["x", "https://api.example.com"], "https://api.example.com", True, id="a-list-naming-it"),
        pytest.param("https://other-api.example", "https://api.example.com", False, id="another-audience"),
        pytest.param(7, "https://api.example.com", False, id="an-aud-of-another-type"),
    ],
)
async def test_an_audience_is_accepted_only_when_it_is_the_configured_one(aud: Any, configured: Any, accepted: bool):
    assert await verdict(verifier(audience=configured), token(good_claims(aud=aud))) is accepted


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(lambda now: {"iss": "https://evil.clerk.accounts.dev"}, id="another-instance"),
        pytest.param(lambda now: {"iss": ...}, id="no-issuer"),
        pytest.param(lambda now: {"exp": now - 3600}, id="expired"),
        pytest.param(lambda now: {"sid": ...}, id="jwt-template-token-without-sid"),
        pytest.param(lambda now: {"azp": "https://evil.example"}, id="another-origin"),
        pytest.param(lambda now: {"sts": "pending"}, id="pending-session"),
        pytest.param(lambda now: {"sub": "user_1\n"}, id="subject-not-a-clerk-id"),
        pytest.param(lambda now: {"exp": "9999999999"}, id="exp-as-a-string"),
    ],
)
async def test_tokens_clerk_would_not_call_a_session_are_refused(changes: Callable[[int], dict[str, Any]]):
    assert not await verdict(verifier(), token(good_claims(**changes(int(time.time())))))


async def test_a_critical_extension_is_refused():
    assert not await verdict(verifier(), token(good_claims(), {"alg": "RS256", "crit": ["exp"], "exp": 1}))


def test_jwks_keys_not_for_signatures_and_short_keys_are_left_out():
    signing = jwk(KEYS)
    encryption = {**jwk(ClerkKeyPair(key_id="ins_enc")), "use": "enc"}
    short_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the short key this test refuses)
    short = {**jwt.algorithms.RSAAlgorithm.to_jwk(short_key.public_key(), as_dict=True), "kid": "ins_short"}

    assert set(usable_jwks_keys({"keys": [signing, encryption, short]})) == {KEYS.key_id}


def test_a_pem_key_under_2048_bits_stops_the_start():
    short_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the short key this test refuses)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    environ = {
        "DATABASE_URL": "postgresql://localhost/sessions",
        "INTERNAL_API_TOKEN": "x" * 32,
        "IDENTITY_URL": "http://127.0.0.1:8001",
        "CLERK_JWT_KEY": short_pem,
    }
    with pytest.raises(SettingsError, match="CLERK_JWT_KEY"):
        load_sessions_settings(environ)


async def test_a_remembered_token_is_refused_once_it_expires():
    remembering = verifier()
    # One to two seconds of leeway left, whatever the fraction of the second now: enough to verify it twice.
    expiring = token(good_claims(exp=math.ceil(time.time()) - LEEWAY_SECONDS + 1))

    assert await verdict(remembering, expiring)
    assert await verdict(remembering, expiring)  # remembered

    async def refused() -> bool:
        return not await verdict(remembering, expiring)

    assert await eventually(refused, within=5)


async def test_only_accepted_tokens_are_remembered_and_the_memory_is_bounded():
    remembering = verifier()
    refused = token(good_claims(sid=...))
    assert not await verdict(remembering, refused)
    assert not await verdict(remembering, refused)

    accepted = [token(good_claims(sid=f"sess_{n}")) for n in range(30)]
    remembering._verified.limit = 20
    assert all([await verdict(remembering, compact) for compact in accepted])
    assert len(remembering._verified) <= 20
