"""Clerk session tokens: RS256 JWTs verified locally (a PEM key or a cached JWKS), never a call per request.

Checks what Clerk's own SDK checks: signature, `exp`/`nbf` with a small leeway, `azp` against the
configured origins (a token without `azp` is refused when origins are configured), and a session that is
fully signed in (`sts` other than `pending`).
"""

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from services.sessions.settings import SessionsSettings, rsa_public_key

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 5
JWKS_REFETCH_INTERVAL_SECONDS = 5  # unknown kids refetch the JWKS at most this often, whoever sends them


class ClerkSession(msgspec.Struct, frozen=True):
    """Who is calling: the Clerk user id (`sub`) and session id (`sid`)."""

    user_id: str
    session_id: str | None


class InvalidSessionToken(NotAuthorizedException):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})


class ClerkKeys:
    """The public keys session tokens may be signed with: one PEM, or a JWKS fetched on first use, kept, and
    refetched when a token names a `kid` it does not hold (how Clerk rotates keys), at most once every 5 s
    so that tokens with made-up kids cannot turn into a request to Clerk each."""

    def __init__(self, *, pem: str = "", jwks_url: str = "") -> None:
        self._pem_key = rsa_public_key(pem) if pem else None
        self._jwks_url = jwks_url
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> Any:
        if self._pem_key is not None:
            return self._pem_key
        if kid is None:
            raise InvalidSessionToken("The session token names no key (kid).")
        if kid not in self._keys:
            await self._refresh()
        if kid not in self._keys:
            raise InvalidSessionToken("The session token is signed with an unknown key.")
        return self._keys[kid]

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_REFETCH_INTERVAL_SECONDS:
                return
            self._fetched_at = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=httpx.Timeout(3, connect=1)) as client:
                    response = await client.get(self._jwks_url)
                    response.raise_for_status()
                jwks = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, jwt.PyJWKSetError, ValueError) as error:
                logger.error("could not fetch Clerk's JWKS (%s); check CLERK_JWKS_URL", type(error).__name__)
                return
            self._keys = {key.key_id: key.key for key in jwks.keys if key.key_id}


class SessionVerifier:
    def __init__(self, keys: ClerkKeys, authorized_parties: tuple[str, ...]) -> None:
        self._keys = keys
        self._authorized_parties = frozenset(authorized_parties)

    async def verify(self, token: str) -> ClerkSession:
        """The session the token proves, or `InvalidSessionToken` (401) saying what is wrong with it."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError as error:
            raise InvalidSessionToken("The session token is not a JWT.") from error
        key = await self._keys.key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidSessionToken("The session token has expired.") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidSessionToken("The session token is not valid yet.") from error
        except jwt.InvalidTokenError as error:
            raise InvalidSessionToken("The session token is invalid.") from error
        if self._authorized_parties and claims.get("azp") not in self._authorized_parties:
            raise InvalidSessionToken("The session token was issued for another origin (azp).")
        if claims.get("sts") == "pending":
            raise InvalidSessionToken("The session is not fully signed in yet.")
        if not isinstance(claims["sub"], str):
            raise InvalidSessionToken("The session token names no user.")
        return ClerkSession(user_id=claims["sub"], session_id=claims.get("sid"))


def session_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token from `Authorization: Bearer`, else from Clerk's `__session` cookie (same-origin apps)."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get("__session") or None


class ClerkAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Every `/api/*` request carries a valid Clerk session; `request.user` is its `ClerkSession`."""

    def __init__(self, app: Any, verifier: SessionVerifier, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = session_token(connection)
        if token is None:
            raise InvalidSessionToken("A Clerk session token is required (Authorization: Bearer or __session).")
        return AuthenticationResult(user=await self._verifier.verify(token), auth=None)


def session_verifier(settings: SessionsSettings) -> SessionVerifier:
    keys = ClerkKeys(pem=settings.clerk_jwt_key, jwks_url=settings.clerk_jwks_url)
    return SessionVerifier(keys, settings.clerk_authorized_parties)
