"""Clerk session tokens: RS256 JWTs verified locally by PyJWT (a PEM key, or a JWKS fetched and cached),
never a call to Clerk per request.

Checks what Clerk's own SDK checks, and more: the signature (RS256 only, no critical extensions), `exp`/`nbf`/
`iat` with a small leeway, `iss` (the instance's Frontend API), `aud` (a token naming an audience is refused
unless it is `CLERK_AUDIENCE`), `azp` against the configured origins (a token without `azp` is refused when
origins are configured), a session that is fully signed in (`sts` other than `pending`), a session id (`sid`:
tokens from JWT templates, signed by the same keys but without one, are not sessions), a subject shaped like a
Clerk user id, and the JSON type of every claim it reads.
"""

import asyncio
import itertools
import logging
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from libs.common.clerk_ids import is_clerk_user_id
from libs.common.internal_auth import bearer_token
from services.sessions.errors import CrossSiteRequest, InvalidSessionToken
from services.sessions.settings import MIN_RSA_BITS, SessionsSettings, rsa_public_key

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 5
JWKS_REFETCH_INTERVAL_SECONDS = 5  # unknown kids refetch the JWKS at most this often, whoever sends them


class ClerkSession(msgspec.Struct, frozen=True):
    """Who is calling: the Clerk user id (`sub`) and session id (`sid`)."""

    user_id: str
    session_id: str


def usable_jwks_keys(jwks: object) -> dict[str, RSAPublicKey]:
    """The signing keys of a JWKS document, by `kid`: RSA keys of at least 2048 bits whose `use` is `sig` or
    unstated; every other key (encryption keys, other types, short keys, keys without a kid) is left out."""
    keys: dict[str, RSAPublicKey] = {}
    for key in jwt.PyJWKSet.from_dict(jwks).keys:  # type: ignore[arg-type]
        public = key.key
        if not key.key_id or key.public_key_use not in (None, "sig") or not isinstance(public, RSAPublicKey):
            continue
        if public.key_size < MIN_RSA_BITS:
            logger.warning("ignored JWKS key %s: RSA keys under %d bits are refused", key.key_id, MIN_RSA_BITS)
            continue
        keys[key.key_id] = public
    return keys


class ClerkKeys:
    """The public keys session tokens may be signed with: one PEM, or a JWKS fetched on first use, kept, and
    refetched when a token names a `kid` it does not hold (how Clerk rotates keys), at most once every 5 s
    so that tokens with made-up kids cannot turn into a request to Clerk each. Open for the app's life (its
    HTTP session to the JWKS URL)."""

    def __init__(self, *, pem: str = "", jwks_url: str = "") -> None:
        self._pem_key = rsa_public_key(pem) if pem else None
        self._jwks_url = jwks_url
        self._keys: dict[str, RSAPublicKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        if self._jwks_url:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=3, sock_connect=1), cookie_jar=aiohttp.DummyCookieJar()
            )
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._http is not None:
            await self._http.close()

    async def key_for(self, kid: object) -> RSAPublicKey:
        """The key a token whose header names `kid` must be signed with: with a PEM there is one, with a
        JWKS the `kid` picks it."""
        if self._pem_key is not None:
            return self._pem_key
        if not isinstance(kid, str):
            raise InvalidSessionToken("The session token names no key (kid).")
        if kid not in self._keys:
            await self._refresh()
        if kid not in self._keys:
            raise InvalidSessionToken("The session token is signed with an unknown key.")
        return self._keys[kid]

    async def _refresh(self) -> None:
        assert self._http is not None, "ClerkKeys used outside the app's lifespan"
        async with self._lock:
            if time.monotonic() - self._fetched_at < JWKS_REFETCH_INTERVAL_SECONDS:
                return
            self._fetched_at = time.monotonic()
            try:
                async with self._http.get(self._jwks_url) as response:
                    response.raise_for_status()
                    jwks = msgspec.json.decode(await response.read())
                self._keys = usable_jwks_keys(jwks)
            except (TimeoutError, aiohttp.ClientError, jwt.PyJWKSetError, msgspec.DecodeError) as error:
                logger.error("could not fetch Clerk's JWKS (%s); check CLERK_JWKS_URL", type(error).__name__)


class SessionClaims(msgspec.Struct, frozen=True):
    """The claims we read, each of its JSON type or the token is refused; others are ignored."""

    sub: str
    exp: int | float
    iat: int | float
    nbf: int | float | None = None
    sid: str | None = None
    azp: str | None = None
    sts: str | None = None


def issuer_of(settings: SessionsSettings) -> str | None:
    """The `iss` session tokens must carry: `CLERK_ISSUER`, else the origin of `CLERK_JWKS_URL` (Clerk serves
    an instance's JWKS from its Frontend API), else None (a PEM alone: not checked)."""
    if settings.clerk_issuer:
        return settings.clerk_issuer
    if settings.clerk_jwks_url:
        parts = urlsplit(settings.clerk_jwks_url)
        return f"{parts.scheme}://{parts.netloc}"
    return None


class SessionVerifier:
    """One per app, holding the keys the app's lifespan opens.

    A token verified once is remembered until it expires (at most `REMEMBERED` of them, the oldest forgotten
    first): a frontend sends the same session token with every call for most of its minute, and everything
    checked but the clock depends on the token's bytes alone, so a repeat costs a dictionary lookup and an
    `exp` comparison instead of an RSA verification. Only successes are remembered. A key Clerk withdraws
    from its JWKS keeps validating the tokens already verified with it until they expire (a minute for
    Clerk's session tokens)."""

    REMEMBERED = 10_000

    def __init__(
        self,
        keys: ClerkKeys,
        authorized_parties: tuple[str, ...],
        *,
        issuer: str | None,
        audience: str | None,
    ) -> None:
        self.keys = keys
        self._authorized_parties = frozenset(authorized_parties)
        self._issuer = issuer
        self._audience = audience
        self._verified: dict[str, tuple[ClerkSession, float]] = {}  # token -> (its session, its exp)
        self._options: Any = {
            "require": ["exp", "iat", "sub", *(["iss"] if issuer else [])],
            "verify_aud": audience is None,  # no audience configured: PyJWT refuses a token naming any
        }

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self  # Litestar deep-copies a Router when it is registered: its middleware must keep this one

    async def verify(self, token: str) -> ClerkSession:
        """The session the token proves, or `InvalidSessionToken` (401) saying what is wrong with it.

        Every header and claim is checked by type before it is used, so no value of any JSON type can turn
        into anything but a 401.
        """
        remembered = self._verified.get(token)
        if remembered is not None:
            session, exp = remembered
            if exp > time.time() - LEEWAY_SECONDS:
                return session
            del self._verified[token]
        session, exp = await self._verify(token)
        if len(self._verified) >= self.REMEMBERED:
            for oldest in list(itertools.islice(self._verified, self.REMEMBERED // 10)):
                del self._verified[oldest]
        self._verified[token] = (session, exp)
        return session

    async def _verify(self, token: str) -> tuple[ClerkSession, float]:
        try:
            header = jwt.get_unverified_header(token)
            if "crit" in header:
                raise InvalidSessionToken("The session token asks for extensions we do not support (crit).")
            payload = jwt.decode(
                token,
                await self.keys.key_for(header.get("kid")),
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options=self._options,
            )
            claims = msgspec.convert(payload, SessionClaims)
        except jwt.ExpiredSignatureError as error:
            raise InvalidSessionToken("The session token has expired.") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidSessionToken("The session token is not valid yet.") from error
        except jwt.MissingRequiredClaimError as error:
            raise InvalidSessionToken(f"The session token lacks the {error.claim} claim.") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidSessionToken("The session token was issued by another Clerk instance (iss).") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidSessionToken("The session token is meant for another audience (aud).") from error
        except (jwt.PyJWTError, msgspec.ValidationError) as error:
            raise InvalidSessionToken("The session token is invalid.") from error
        if self._audience is not None and not _names_audience(payload.get("aud"), self._audience):
            raise InvalidSessionToken("The session token is meant for another audience (aud).")
        if not claims.sid:
            raise InvalidSessionToken("The token carries no session id (sid): a JWT-template token is not a session.")
        if self._authorized_parties and claims.azp not in self._authorized_parties:
            raise InvalidSessionToken("The session token was issued for another origin (azp).")
        if claims.sts == "pending":
            raise InvalidSessionToken("The session is not fully signed in yet.")
        if not is_clerk_user_id(claims.sub):
            raise InvalidSessionToken("The session token's subject is not a Clerk user id.")
        return ClerkSession(user_id=claims.sub, session_id=claims.sid), claims.exp


def _names_audience(aud: object, audience: str) -> bool:
    """A token without `aud` names no other audience; one with it must name ours (a string, or a list of them)."""
    if aud is None:
        return True
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and all(isinstance(item, str) for item in aud) and audience in aud


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

    def __init__(self, app: Any, verifier: SessionVerifier, browser_origins: frozenset[str], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._verifier = verifier
        self._browser_origins = browser_origins

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.scope)
        if token is None:
            token = connection.cookies.get("__session") or None
            if token is None:
                raise InvalidSessionToken("A Clerk session token is required (Authorization: Bearer or __session).")
            refuse_cross_site_cookie_request(connection, self._browser_origins)
        return AuthenticationResult(user=await self._verifier.verify(token), auth=None)


def session_verifier(settings: SessionsSettings) -> SessionVerifier:
    """The verifier `settings` describe; its keys are a resource of the app's lifespan."""
    keys = ClerkKeys(pem=settings.clerk_jwt_key, jwks_url=settings.clerk_jwks_url)
    issuer = issuer_of(settings)
    if issuer is None:
        logger.warning("CLERK_ISSUER is not set beside CLERK_JWT_KEY: session tokens' iss is not checked")
    return SessionVerifier(
        keys, settings.clerk_authorized_parties, issuer=issuer, audience=settings.clerk_audience or None
    )
