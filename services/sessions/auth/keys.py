"""The public keys Clerk session tokens are signed with: one PEM, or an instance's JWKS, fetched and kept."""

import asyncio
import logging
import time
from types import TracebackType
from typing import Self

import aiohttp
import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from libs.common.http_client import client_session
from services.sessions.errors import InvalidSessionToken
from services.sessions.settings import MIN_RSA_BITS, rsa_public_key

logger = logging.getLogger(__name__)

JWKS_REFETCH_INTERVAL_SECONDS = 5  # unknown kids refetch the JWKS at most this often, whoever sends them


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
            self._http = client_session(timeout=3, connections=2)
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._http is not None:
            await self._http.close()

    async def key_for(self, token: str) -> RSAPublicKey:
        """The key `token` must be signed with: with a PEM there is one (the token's header is not read here:
        PyJWT reads and checks it once, verifying), with a JWKS the `kid` its header names picks it."""
        if self._pem_key is not None:
            return self._pem_key
        kid = jwt.get_unverified_header(token).get("kid")
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
