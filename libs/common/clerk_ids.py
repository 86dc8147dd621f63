"""Clerk ids as both services accept them: `user_` or `org_` then letters and digits, matched in full. One that
passes is safe in a URL path, a SQL parameter and a log line (no newline, NUL or space gets in, at most 64
characters)."""

import re
from typing import Annotated

import msgspec

# `\Z`, not `$`: `$` also matches before a trailing newline.
_USER_PATTERN = r"^user_[A-Za-z0-9]{1,59}\Z"
_ORGANIZATION_PATTERN = r"^org_[A-Za-z0-9]{1,59}\Z"
_CLERK_USER_ID = re.compile(_USER_PATTERN)
_CLERK_ORGANIZATION_ID = re.compile(_ORGANIZATION_PATTERN)

ClerkUserId = Annotated[str, msgspec.Meta(pattern=_USER_PATTERN)]
"""A msgspec field holding a Clerk user id (decoding refuses anything else)."""

ClerkOrganizationId = Annotated[str, msgspec.Meta(pattern=_ORGANIZATION_PATTERN)]
"""A msgspec field holding a Clerk organization id (decoding refuses anything else)."""


def is_clerk_user_id(value: object) -> bool:
    """True for a string shaped like a Clerk user id."""
    return isinstance(value, str) and _CLERK_USER_ID.match(value) is not None


def is_clerk_organization_id(value: object) -> bool:
    """True for a string shaped like a Clerk organization id."""
    return isinstance(value, str) and _CLERK_ORGANIZATION_ID.match(value) is not None
