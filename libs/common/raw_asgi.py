"""Plain ASGI for the few hot paths that skip Litestar's per-request machinery (request object, kwargs and
signature model, response object): a header read straight from the scope, a bounded body, a JSON answer.

Whatever uses them still runs inside the app's middleware, so the access log, the metrics and problem+json
errors (raise Litestar's or our exceptions as anywhere else) are the same as for any route.
"""

from collections.abc import Sequence
from typing import cast

import msgspec
from litestar.exceptions import ClientException, MethodNotAllowedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import ResponseSpec
from litestar.types import (
    HTTPReceiveMessage,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
)

_encoder = msgspec.json.Encoder()


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case, as ASGI servers give names), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def require_method(scope: HTTPScope, method: str) -> None:
    """405 (with `Allow`) unless the request's method is `method`: a raw route answers every method."""
    if scope["method"] != method:
        raise MethodNotAllowedException(headers={"Allow": method})


async def read_body(scope: HTTPScope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refused with 413 past `limit` bytes (announced or received)."""
    announced = header(scope, b"content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise RequestEntityTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = cast(HTTPReceiveMessage, await receive())
        if message["type"] == "http.disconnect":
            raise ClientException("The client went away before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_json(send: Send, value: object, status: int = 200, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer with `value` as JSON (a msgspec struct, or anything msgspec encodes), and `headers`."""
    body = _encoder.encode(value)
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": head}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


class JsonAnswer:
    """`value` as JSON, as an ASGI app a Litestar route handler returns (annotated `ASGIApp`, its body described by
    `responses={status: JsonAnswer.documented(...)}`), which Litestar sends as it is. Its own Response (headers
    merged, cookies, the serializer looked up, the body encoded, the headers encoded again) was a fifth of
    identity's CPU per ensure-user call. For the hot routes only; the others return their values.
    """

    __slots__ = ("headers", "status", "value")

    def __init__(self, value: object, *, status: int = 200, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self.value = value
        self.status = status
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, self.value, self.status, self.headers)

    @staticmethod
    def documented(body: type, description: str) -> ResponseSpec:
        """The OpenAPI entry for a route answering a `JsonAnswer` of `body`: `responses={status: ...}`."""
        return ResponseSpec(body, generate_examples=False, description=description)
