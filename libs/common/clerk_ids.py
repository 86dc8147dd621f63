"""Clerk user ids as both services accept them: `user_` then letters and digits, matched in full."""

import re
from typing import Annotated

import msgspec

# `\Z`, not `$`: `$` also matches before a trailing newline.
_PATTERN = r"^user_[A-Za-z0-9]{1,59}\Z"
_CLERK_USER_ID = re.compile(_PATTERN)

ClerkUserId = Annotated[str, msgspec.Meta(pattern=_PATTERN)]
"""A msgspec field holding a Clerk user id (decoding refuses anything else)."""


def is_clerk_user_id(value: object) -> bool:
    """True for a string shaped like a Clerk user id: one that passes is safe in a URL path, a SQL parameter
    and a log line (no newline, NUL or space gets in, at most 64 characters)."""
    return isinstance(value, str) and _CLERK_USER_ID.match(value) is not None
