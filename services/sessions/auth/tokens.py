"""Clerk session tokens: RS256 JWTs verified locally by PyJWT (a PEM key, or a JWKS fetched and cached),
never a call to Clerk per request.

Checks what Clerk's own SDK checks, and more: the signature (RS256 only, no critical extensions), `exp`/`nbf`/
`iat` with a small leeway, `iss` (the instance's Frontend API), `aud` (a token naming an audience is refused
unless it is `CLERK_AUDIENCE`), `azp` against the configured origins (a token without `azp` is refused when
origins are configured), a session that is fully signed in (`sts` other than `pending`), a session id (`sid`:
tokens from JWT templates, signed by the same keys but without one, are not sessions), a subject shaped like a
Clerk user id, and the JSON type of every claim it reads: the active organization too (v2's `o`, or v1's
`org_id`, `org_role`, `org_slug`), where a malformed one refuses the token like any other claim. The profile an
app may add to its tokens (`email`, `first_name`, ...) is read claim by claim, and a malformed one is left out,
never a refusal: the app's own settings decide what they hold.
"""

import logging
import re
import time
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

import jwt
import msgspec

from libs.common.clerk_ids import ClerkOrganizationId, is_clerk_user_id
from libs.common.profile_claims import MAX_LENGTHS, ProfileClaims
from libs.common.remembered import Remembered
from services.sessions.auth.keys import ClerkKeys
from services.sessions.errors import InvalidSessionToken
from services.sessions.settings import SessionsSettings

logger = logging.getLogger(__name__)

LEEWAY_SECONDS = 5


ROLE = r"^[A-Za-z0-9:_-]{1,64}\Z"


class ActiveOrganization(msgspec.Struct, frozen=True):
    """The organization the session has active, and the member's role in it (without Clerk's `org:` prefix)."""

    id: str
    role: str | None
    slug: str | None = None


class ClerkSession(msgspec.Struct, frozen=True):
    """Who is calling: the Clerk user id (`sub`), session id (`sid`), active organization (`o`, or v1's
    `org_*` claims) and the profile the token carries, if any."""

    user_id: str
    session_id: str
    organization: ActiveOrganization | None = None
    profile: ProfileClaims | None = None


class OrganizationClaim(msgspec.Struct, frozen=True):
    """Session token v2's `o`: the active organization's `id`, the member's `rol` (without `org:`) and the
    organization's `slg`; `per` and `fpm` (permissions) are not read."""

    id: ClerkOrganizationId
    rol: Annotated[str, msgspec.Meta(pattern=ROLE)]
    slg: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class SessionClaims(msgspec.Struct, frozen=True):
    """The claims we read, each of its JSON type or the token is refused; others are ignored."""

    sub: str
    exp: int | float
    iat: int | float
    nbf: int | float | None = None
    sid: str | None = None
    azp: str | None = None
    sts: str | None = None
    o: OrganizationClaim | None = None
    org_id: ClerkOrganizationId | None = None
    org_role: Annotated[str, msgspec.Meta(pattern=ROLE)] | None = None
    org_slug: Annotated[str, msgspec.Meta(max_length=256)] | None = None

    def organization(self) -> ActiveOrganization | None:
        """v2's `o` when present, else v1's `org_id` / `org_role` (`org:admin`) / `org_slug`; None: no active
        organization (normal)."""
        if self.o is not None:
            return ActiveOrganization(self.o.id, self.o.rol.removeprefix("org:"), self.o.slg)
        if self.org_id is not None:
            role = self.org_role.removeprefix("org:") if self.org_role else None
            return ActiveOrganization(self.org_id, role, self.org_slug)
        return None


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f]")


def _profile_claim(name: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_LENGTHS[name]:
        return None
    if _UNPRINTABLE.search(value):
        return None
    if name == "email" and "@" not in value:
        return None
    if name == "image_url" and not value.startswith("https://"):
        return None
    return value.strip()


def profile_of(payload: dict[str, Any]) -> ProfileClaims | None:
    """The profile claims of a verified token, each one that is malformed left out (a missing template variable
    renders as an empty string or null, and the app's settings can put anything there); None without any."""
    profile = ProfileClaims(**{name: _profile_claim(name, payload.get(name)) for name in MAX_LENGTHS})
    return None if profile.is_empty() else profile


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
        self._verified: Remembered[str, tuple[ClerkSession, float]] = Remembered(self.REMEMBERED)  # -> (session, exp)
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
            self._verified.forget(token)
        session, exp = await self._verify(token)
        self._verified.put(token, (session, exp))
        return session

    async def _verify(self, token: str) -> tuple[ClerkSession, float]:
        try:
            verified = jwt.decode_complete(
                token,
                await self.keys.key_for(token),
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options=self._options,
            )
            if "crit" in verified["header"]:
                raise InvalidSessionToken("The session token asks for extensions we do not support (crit).")
            payload = verified["payload"]
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
        session = ClerkSession(claims.sub, claims.sid, claims.organization(), profile_of(payload))
        return session, claims.exp


def _names_audience(aud: object, audience: str) -> bool:
    """A token without `aud` names no other audience; one with it must name ours (a string, or a list of them)."""
    if aud is None:
        return True
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and all(isinstance(item, str) for item in aud) and audience in aud


def session_verifier(settings: SessionsSettings) -> SessionVerifier:
    """The verifier `settings` describe; its keys are a resource of the app's lifespan."""
    keys = ClerkKeys(pem=settings.clerk_jwt_key, jwks_url=settings.clerk_jwks_url)
    issuer = issuer_of(settings)
    if issuer is None:
        logger.warning("CLERK_ISSUER is not set beside CLERK_JWT_KEY: session tokens' iss is not checked")
    return SessionVerifier(
        keys, settings.clerk_authorized_parties, issuer=issuer, audience=settings.clerk_audience or None
    )
