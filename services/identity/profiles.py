"""The shapes of a user inside the identity service: the profile Clerk gives us and the row we store."""

import uuid
from datetime import datetime
from typing import Literal

import msgspec

CreatedVia = Literal["webhook", "ensure", "backfill", "claims"]
ProfileStatus = Literal["complete", "pending"]


class UserProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What Clerk says about a user at `clerk_updated_at`, reduced to the fields we keep."""

    clerk_id: str
    email: str | None
    email_verified: bool  # Clerk verified `email` (an unverified or absent one: False)
    phone: str | None
    username: str | None
    first_name: str | None
    last_name: str | None
    image_url: str | None
    clerk_created_at: datetime
    clerk_updated_at: datetime
    banned: bool
    locked: bool


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A stored user row; `deleted_at` set means Clerk deleted the user and the row is a tombstone."""

    id: uuid.UUID
    clerk_id: str
    email: str | None
    email_verified: bool | None  # as Clerk said it; None: Clerk has not said (made from claims, pending, deleted)
    phone: str | None
    username: str | None
    first_name: str | None
    last_name: str | None
    image_url: str | None
    clerk_created_at: datetime | None
    clerk_updated_at: datetime | None
    deleted_at: datetime | None
    banned: bool
    locked: bool
    created_via: CreatedVia
    profile_status: ProfileStatus
    created_at: datetime
    updated_at: datetime
