"""Slow clients cannot hold a worker's sockets: the server closes a connection whose request head has not
arrived within `HEADER_READ_TIMEOUT_SECONDS` (granian's setting, given by `cli.serve`), takes at most
`MAX_CONNECTIONS_PER_WORKER` connections at once (more wait in the listen backlog, costing this process no
file descriptor), and a request whose body has not arrived `BODY_READ_TIMEOUT_SECONDS` after its head is
answered 408 (`body_within_deadline`), which ends its connection."""

import asyncio

from litestar.exceptions import HTTPException
from litestar.types import Receive, ReceiveMessage

HEADER_READ_TIMEOUT_SECONDS = 5
BODY_READ_TIMEOUT_SECONDS = 10
MAX_CONNECTIONS_PER_WORKER = 1000


def body_within_deadline(receive: Receive, seconds: float = BODY_READ_TIMEOUT_SECONDS) -> Receive:
    """`receive`, raising a 408 when the request's body is not complete `seconds` from now. Once the body is
    in, later calls (waiting for a disconnect) have no deadline."""
    deadline = asyncio.get_running_loop().time() + seconds
    body_complete = False

    async def receive_in_time() -> ReceiveMessage:
        nonlocal body_complete
        if body_complete:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise HTTPException(
                status_code=408, detail=f"The request body did not arrive within {seconds:g} seconds."
            ) from None
        body_complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return receive_in_time
