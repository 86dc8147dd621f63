"""Clerk's wire formats (the Backend API user object and webhook events) and how we read them.

Only the fields we keep are declared; the rest (metadata among them, which a user's own browser can write
through `unsafe_metadata`) is skipped. Every declared value is bounded by type and range, so a payload we
can read can also be stored, and decoding survives any nesting depth: see `decode`.
"""

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from libs.common.clerk_ids import ClerkOrganizationId, ClerkUserId
from libs.common.db import NO_NUL
from services.identity.profiles import UserProfile

T = TypeVar("T")

MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment a datetime can hold
Millis = Annotated[int, msgspec.Meta(ge=0, le=MAX_MILLIS)]
Text = Annotated[str, msgspec.Meta(pattern=NO_NUL)]
ShortText = Annotated[str, msgspec.Meta(max_length=64, pattern=NO_NUL)]


class ClerkVerification(msgspec.Struct, frozen=True):
    """An identification's verification; only `status` "verified" vouches for it."""

    status: str | None = None


class ClerkEmailAddress(msgspec.Struct, frozen=True):
    id: str
    email_address: Text
    verification: ClerkVerification | None = None

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.status == "verified"


class ClerkPhoneNumber(msgspec.Struct, frozen=True):
    id: str
    phone_number: Text


class ClerkUser(msgspec.Struct, frozen=True, kw_only=True):
    """Clerk's User object (Backend API and `user.created`/`user.updated` data); other fields are ignored."""

    id: ClerkUserId
    username: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    image_url: Text | None = None
    primary_email_address_id: str | None = None
    primary_phone_number_id: str | None = None
    email_addresses: list[ClerkEmailAddress] = []
    phone_numbers: list[ClerkPhoneNumber] = []
    created_at: Millis
    updated_at: Millis
    banned: bool = False
    locked: bool = False

    def to_profile(self) -> UserProfile:
        """The primary email and phone are the ones named by `primary_*_id`, wherever they are listed; the email
        counts as verified only when Clerk's verification of that address says so."""
        email = next((e for e in self.email_addresses if e.id == self.primary_email_address_id), None)
        phone = next((p.phone_number for p in self.phone_numbers if p.id == self.primary_phone_number_id), None)
        return UserProfile(
            clerk_id=self.id,
            email=email.email_address if email else None,
            email_verified=email is not None and email.verified,
            phone=phone,
            username=self.username,
            first_name=self.first_name,
            last_name=self.last_name,
            image_url=self.image_url,
            clerk_created_at=_from_millis(self.created_at),
            clerk_updated_at=_from_millis(self.updated_at),
            banned=self.banned,
            locked=self.locked,
        )


class ClerkDeletedObject(msgspec.Struct, frozen=True):
    id: ClerkUserId
    deleted: bool = True


class ClerkEventHead(msgspec.Struct, frozen=True):
    """The part of every webhook envelope we read before knowing the event's type."""

    type: ShortText
    timestamp: Millis | None = None  # Clerk documents milliseconds; seconds fit the same range


class ClerkUserEvent(msgspec.Struct, frozen=True):
    type: Literal["user.created", "user.updated"]
    data: ClerkUser


class ClerkUserDeletedEvent(msgspec.Struct, frozen=True):
    type: Literal["user.deleted"]
    data: ClerkDeletedObject


class ClerkObjectId(msgspec.Struct, frozen=True):
    """Just the id of a listed object, to name one we cannot otherwise read."""

    id: str


class ClerkOrganization(msgspec.Struct, frozen=True, kw_only=True):
    """Clerk's Organization object (`organization.created`/`organization.updated` data); other fields (metadata,
    counts, settings) are ignored."""

    id: ClerkOrganizationId
    name: Text | None = None
    slug: Text | None = None
    created_at: Millis
    updated_at: Millis

    def to_profile(self) -> "OrganizationProfile":
        return OrganizationProfile(
            clerk_org_id=self.id,
            name=self.name,
            slug=self.slug,
            clerk_created_at=_from_millis(self.created_at),
            clerk_updated_at=_from_millis(self.updated_at),
        )


class OrganizationProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What Clerk says about an organization at `clerk_updated_at`, reduced to what we keep."""

    clerk_org_id: str
    name: str | None
    slug: str | None
    clerk_created_at: datetime
    clerk_updated_at: datetime


class ClerkOrganizationEvent(msgspec.Struct, frozen=True):
    type: Literal["organization.created", "organization.updated"]
    data: ClerkOrganization


class ClerkDeletedOrganization(msgspec.Struct, frozen=True):
    id: ClerkOrganizationId
    deleted: bool = True


class ClerkOrganizationDeletedEvent(msgspec.Struct, frozen=True):
    type: Literal["organization.deleted"]
    data: ClerkDeletedOrganization


USER_EVENT_TYPES = frozenset({"user.created", "user.updated"})
ORGANIZATION_EVENT_TYPES = frozenset({"organization.created", "organization.updated"})


def _from_millis(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


# A JSON string (its brackets are not structure) or a bracket; everything else is skipped by finditer.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
KEPT_DEPTH = 16  # the fields we read sit at most five levels down (a page > user > emails > email > field)


def _prune_deep_values(body: bytes, depth: int = KEPT_DEPTH) -> bytes:
    """`body` with every array or object that opens deeper than `depth` replaced by `null`. Iterative, so no
    nesting can exhaust the stack; what it replaces is free-form data we never read."""
    parts: list[bytes] = []
    level, kept_until, cut_from = 0, 0, -1
    for token in _STRING_OR_BRACKET.finditer(body):
        char = body[token.start()]
        if char in b"[{":
            level += 1
            if level == depth + 1:
                cut_from = token.start()
        elif char in b"]}":
            if level == depth + 1 and cut_from >= 0:
                parts += [body[kept_until:cut_from], b"null"]
                kept_until, cut_from = token.end(), -1
            level -= 1
    parts.append(body[kept_until:])
    return b"".join(parts)


def decode(decoder: msgspec.json.Decoder[T], body: bytes | msgspec.Raw) -> T:
    """`decoder.decode(body)`, whatever the nesting depth of the fields it skips.

    msgspec skips unknown fields recursively and gives up (RecursionError) a thousand levels down, which
    2 KB of `[[[...]]]` in a user's metadata reaches. Then the deep parts, none of which we read, are pruned
    and the body decoded again: such a user is stored like any other. Raises `msgspec.DecodeError` (including
    `ValidationError`) for a body that is not the expected shape.
    """
    try:
        return decoder.decode(body)
    except RecursionError:
        return decoder.decode(_prune_deep_values(bytes(body)))
