"""Clerk session tokens: RS256 JWTs verified locally (a PEM key or a cached JWKS), never a call per request.

Checks what Clerk's own SDK checks: signature, `exp`/`nbf` with a small leeway, `azp` against the
configured origins (a token without `azp` is refused when origins are configured), a session that is
fully signed in (`sts` other than `pending`), and a session id (`sid`): tokens from JWT templates, signed by
the same keys but without one, are not sessions.
"""

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from libs.common.clerk_ids import is_clerk_user_id
from libs.common.internal_auth import bearer_token
from services.sessions.errors import CrossSiteRequest, InvalidSessionToken
from services.sessions.jws import MalformedToken, SignedToken
from services.sessions.settings import SessionsSettings, rsa_public_key

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 5
JWKS_REFETCH_INTERVAL_SECONDS = 5  # unknown kids refetch the JWKS at most this often, whoever sends them


class ClerkSession(msgspec.Struct, frozen=True):
    """Who is calling: the Clerk user id (`sub`) and session id (`sid`)."""

    user_id: str
    session_id: str


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
        """The key a token whose header names `kid` must be signed with: with a PEM there is one, with a
        JWKS the `kid` picks it."""
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


class SessionClaims(msgspec.Struct, frozen=True):
    """The claims we read, each of its JSON type or the token is refused; others are ignored. Required ones
    are checked by hand, to say which is missing."""

    exp: int | float | None = None
    iat: int | float | None = None
    nbf: int | float | None = None
    sub: str | None = None
    sid: str | None = None
    azp: str | None = None
    sts: str | None = None


_claims = msgspec.json.Decoder(SessionClaims)


class SessionVerifier:
    def __init__(self, keys: ClerkKeys, authorized_parties: tuple[str, ...]) -> None:
        self._keys = keys
        self.authorized_parties = frozenset(authorized_parties)

    async def verify(self, token: str) -> ClerkSession:
        """The session the token proves, or `InvalidSessionToken` (401) saying what is wrong with it.

        Every header and claim is checked by type before it is used, so no value of any JSON type can turn
        into anything but a 401.
        """
        try:
            signed = SignedToken(token)
            claims = signed.claims(await self._keys.key_for(signed.header.kid), _claims)
        except (MalformedToken, msgspec.DecodeError) as error:
            raise InvalidSessionToken("The session token is invalid.") from error
        exp, iat, sub, sid = claims.exp, claims.iat, claims.sub, claims.sid
        if exp is None or iat is None or sub is None:
            missing = next(name for name in ("exp", "iat", "sub") if getattr(claims, name) is None)
            raise InvalidSessionToken(f"The session token lacks the {missing} claim.")
        if not sid:
            raise InvalidSessionToken("The token carries no session id (sid): a JWT-template token is not a session.")
        now = time.time()
        if exp <= now - LEEWAY_SECONDS:
            raise InvalidSessionToken("The session token has expired.")
        if max(iat, claims.nbf or 0) > now + LEEWAY_SECONDS:
            raise InvalidSessionToken("The session token is not valid yet.")
        if self.authorized_parties and claims.azp not in self.authorized_parties:
            raise InvalidSessionToken("The session token was issued for another origin (azp).")
        if claims.sts == "pending":
            raise InvalidSessionToken("The session is not fully signed in yet.")
        if not is_clerk_user_id(sub):
            raise InvalidSessionToken("The session token's subject is not a Clerk user id.")
        return ClerkSession(user_id=sub, session_id=sid)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site_cookie_request(
    connection: ASGIConnection[Any, Any, Any, Any], authorized_origins: frozenset[str]
) -> None:
    """A request that proves itself by the `__session` cookie alone could have been sent by any site the user
    visits (the browser attaches the cookie). It is served only when it demonstrably comes from the app:
    an `Origin` it sends must be an authorized one, and a write must carry an authorized `Origin` (when origins
    are configured) and a JSON body, which no cross-site form or simple request can send without a preflight.
    A read without `Origin` is a same-origin read (browsers omit it there) and changes nothing, so it passes.
    """
    origin = connection.headers.get("origin")
    if authorized_origins and origin is not None and origin not in authorized_origins:
        raise CrossSiteRequest("This origin may not use the session cookie; send the token as a Bearer header.")
    if connection.scope.get("method") in SAFE_METHODS:
        return
    if authorized_origins and origin is None:
        raise CrossSiteRequest("A write authenticated by the session cookie must send an authorized Origin.")
    media_type = connection.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise CrossSiteRequest("A write authenticated by the session cookie must send a JSON body.")


class ClerkAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Every `/api/*` request carries a valid Clerk session; `request.user` is its `ClerkSession`.

    The `Authorization: Bearer` header wins over the `__session` cookie; a cookie-only request must also pass
    `refuse_cross_site_cookie_request`.
    """

    def __init__(self, app: Any, verifier: SessionVerifier, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.scope)
        if token is None:
            token = connection.cookies.get("__session") or None
            if token is None:
                raise InvalidSessionToken("A Clerk session token is required (Authorization: Bearer or __session).")
            refuse_cross_site_cookie_request(connection, self._verifier.authorized_parties)
        return AuthenticationResult(user=await self._verifier.verify(token), auth=None)


def session_verifier(settings: SessionsSettings) -> SessionVerifier:
    keys = ClerkKeys(pem=settings.clerk_jwt_key, jwks_url=settings.clerk_jwks_url)
    return SessionVerifier(keys, settings.clerk_authorized_parties)
