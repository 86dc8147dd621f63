"""The profile an app may put into its Clerk session tokens (Clerk Dashboard → Sessions → Customize session
token): sessions reads it from a verified token and passes it with ensure-user, and identity makes an unknown user
from it. One shape for both ends of that call, each claim bounded as the webhook's field of the same name."""

from typing import Annotated

import msgspec

from libs.common.db import NO_NUL

MAX_LENGTHS = {"email": 320, "first_name": 256, "last_name": 256, "username": 64, "image_url": 2048}
"""Each claim's bound in characters."""


class ProfileClaims(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Each claim a string within its bound, without NUL, or absent (decoding refuses anything else)."""

    email: Annotated[str, msgspec.Meta(max_length=MAX_LENGTHS["email"], pattern=NO_NUL)] | None = None
    first_name: Annotated[str, msgspec.Meta(max_length=MAX_LENGTHS["first_name"], pattern=NO_NUL)] | None = None
    last_name: Annotated[str, msgspec.Meta(max_length=MAX_LENGTHS["last_name"], pattern=NO_NUL)] | None = None
    username: Annotated[str, msgspec.Meta(max_length=MAX_LENGTHS["username"], pattern=NO_NUL)] | None = None
    image_url: Annotated[str, msgspec.Meta(max_length=MAX_LENGTHS["image_url"], pattern=NO_NUL)] | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, field) for field in self.__struct_fields__)
