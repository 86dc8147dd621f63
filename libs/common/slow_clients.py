"""Slow clients cannot hold a worker's sockets: the server closes a connection whose request head has not
arrived within `HEADER_READ_TIMEOUT_SECONDS` (granian's setting, given by `cli.serve`), takes at most
`MAX_CONNECTIONS_PER_WORKER` connections at once (more wait in the listen backlog, costing this process no
file descriptor), and a request whose body has not arrived `BODY_READ_TIMEOUT_SECONDS` after its head is
answered 408 (`RequestBody`), which ends its connection."""

import asyncio

from litestar.exceptions import HTTPException
from litestar.types import Receive, ReceiveMessage, Scope

HEADER_READ_TIMEOUT_SECONDS = 5
BODY_READ_TIMEOUT_SECONDS = 10
MAX_CONNECTIONS_PER_WORKER = 1000
MAX_DRAINED_BYTES = 8 * 1024 * 1024


def may_have_body(scope: Scope) -> bool:
    """Whether a body may follow the request's head: HTTP/1.1 frames one by `Content-Length` (other than 0) or
    `Transfer-Encoding` (RFC 9112, 6.3); without either, the request has none, and nothing can be slow to come."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _ends_body(message: ReceiveMessage) -> bool:
    """Whether nothing of the body comes after `message` (its last part, or the client gone)."""
    return message["type"] != "http.request" or not message.get("more_body", False)


class RequestBody:
    """A request's body as the app reads it (`receive`): a 408 when it is not complete `seconds` after the head;
    once it is in, later calls (waiting for a disconnect) have no deadline.

    `drain` reads and discards what the app left unread (a 413 answered before the body ended, a route that
    reads no body), up to `MAX_DRAINED_BYTES` and within the same deadline: a connection closed with unread data
    is reset by the kernel, and the client may then lose the answer already sent."""

    def __init__(self, receive: Receive, seconds: float = BODY_READ_TIMEOUT_SECONDS) -> None:
        self._receive = receive
        self._seconds = seconds
        self._deadline = asyncio.get_running_loop().time() + seconds
        self._complete = False

    async def receive(self) -> ReceiveMessage:
        if self._complete:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            raise HTTPException(
                status_code=408, detail=f"The request body did not arrive within {self._seconds:g} seconds."
            ) from None
        self._complete = _ends_body(message)
        return message

    async def drain(self) -> None:
        if self._complete:  # the app read it all: the usual case, and no timer to arm for it
            return
        drained = 0
        try:
            async with asyncio.timeout_at(self._deadline):
                while not self._complete and drained <= MAX_DRAINED_BYTES:
                    message = await self._receive()
                    if message["type"] == "http.request":
                        drained += len(message["body"])
                    self._complete = _ends_body(message)
        except TimeoutError:
            return
