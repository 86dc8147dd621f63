"""Request headers read straight from the ASGI scope: building a request's header mapping costs a few per cent
of a request on the hot paths, where one header is all that is wanted."""

from litestar.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case, as ASGI servers give names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
