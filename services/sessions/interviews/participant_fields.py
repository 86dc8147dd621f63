"""Bounds on what a client may put into its own LiveKit token: each field is copied into a JWT that LiveKit,
the agent and every other participant read, so size and characters are limited before anything is minted."""

import re
from collections.abc import Mapping

from services.sessions.errors import InvalidParticipantField

MAX_METADATA_BYTES = 4096
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTES_BYTES = 4096
MAX_NAME_CHARS = 128

# C0 and C1 controls (CR, LF, NUL, ESC, ...) and the bidi controls that can make a name display as another
# (LRM/RLM, ALM, the embeddings and overrides LRE..RLO, the isolates LRI..PDI).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_name(field: str, value: str | None) -> None:
    """At most 128 characters, none of them a control or bidi-override character."""
    if value is None:
        return
    if len(value) > MAX_NAME_CHARS:
        raise InvalidParticipantField(f"{field} is longer than {MAX_NAME_CHARS} characters.")
    if _UNPRINTABLE.search(value):
        raise InvalidParticipantField(f"{field} contains a control or bidi-override character.")


def check_metadata(field: str, value: str | None) -> None:
    """At most 4 KiB, counted in UTF-8 bytes (what the token carries)."""
    if value is not None and len(value.encode()) > MAX_METADATA_BYTES:
        raise InvalidParticipantField(f"{field} is larger than {MAX_METADATA_BYTES} bytes.")


def check_attributes(field: str, attributes: Mapping[str, str] | None) -> None:
    """At most 32 keys of at most 64 characters, keys and values at most 4 KiB in all (UTF-8)."""
    if attributes is None:
        return
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParticipantField(f"{field} has more than {MAX_ATTRIBUTES} keys.")
    if any(len(key) > MAX_ATTRIBUTE_KEY_CHARS for key in attributes):
        raise InvalidParticipantField(f"{field} has a key longer than {MAX_ATTRIBUTE_KEY_CHARS} characters.")
    if sum(len(key.encode()) + len(value.encode()) for key, value in attributes.items()) > MAX_ATTRIBUTES_BYTES:
        raise InvalidParticipantField(f"{field} is larger than {MAX_ATTRIBUTES_BYTES} bytes in all.")
