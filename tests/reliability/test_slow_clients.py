"""Slow clients cannot hold sessions' sockets or crowd out a normal start: 500 connections that never finish
their request (half stop inside the head, half inside the body) are closed within the deadlines, while a
normal start is answered at once."""

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from libs.common.slow_clients import BODY_READ_TIMEOUT_SECONDS, HEADER_READ_TIMEOUT_SECONDS
from tests.support.clerk import clerk_user
from tests.support.credentials import bearer
from tests.support.stack import Stack
from tests.support.waiting import eventually

SLOW = 250  # of each kind


@dataclass
class SlowClient:
    """A connection that sent part of a request and then nothing more; what the server sent back."""

    connection: socket.socket
    answer: bytearray = field(default_factory=bytearray)

    @classmethod
    def open(cls, address: tuple[str, int], part: bytes) -> "SlowClient":
        connection = socket.create_connection(address)
        connection.sendall(part)
        connection.setblocking(False)
        return cls(connection)

    def closed(self) -> bool:
        """Whether the server has ended the connection (after its answer, if it sent one)."""
        try:
            while data := self.connection.recv(65536):
                self.answer += data
        except BlockingIOError:
            return False
        except OSError:
            return True
        return True


async def test_slow_clients_are_cut_off_at_the_deadlines_and_a_normal_start_still_answers(
    stack: Stack, clerk: httpx.AsyncClient, session_token: Callable[..., str]
):
    user = await clerk_user(clerk, email="patient@example.com")
    token = session_token(user["id"], lifetime_seconds=600)
    url = urlsplit(stack.sessions.url)
    address = (url.hostname or "127.0.0.1", url.port or 80)
    partial_head = b"POST /api/livekit/connection-details HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    partial_body = (
        f"POST /api/livekit/connection-details HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    ).encode()
    opened = time.monotonic()
    heads = [SlowClient.open(address, partial_head) for _ in range(SLOW)]
    bodies = [SlowClient.open(address, partial_body) for _ in range(SLOW)]
    try:
        async with httpx.AsyncClient(base_url=stack.sessions.url, timeout=10) as client:
            asked = time.monotonic()
            started = await client.post("/api/livekit/connection-details", headers=bearer(token), json={})
            answered_in = time.monotonic() - asked

        async def all_closed(clients: list[SlowClient]) -> bool:
            return all([client.closed() for client in clients])  # noqa: C419 (read every socket, not stop at one)

        heads_closed = await eventually(lambda: all_closed(heads), within=HEADER_READ_TIMEOUT_SECONDS + 5)
        heads_closed_after = time.monotonic() - opened
        bodies_closed = await eventually(lambda: all_closed(bodies), within=BODY_READ_TIMEOUT_SECONDS + 5)
        bodies_closed_after = time.monotonic() - opened
        held = sum(not client.closed() for client in heads + bodies)
    finally:
        for client in heads + bodies:
            client.connection.close()

    print(
        f"\nslow clients: a start among {2 * SLOW} stuck connections answered in {answered_in * 1000:.0f} ms; "
        f"unfinished heads closed after {heads_closed_after:.1f} s, unfinished bodies after "
        f"{bodies_closed_after:.1f} s; {held} sockets still held"
    )
    assert started.status_code == 200, started.text
    assert answered_in < 2
    assert heads_closed
    assert bodies_closed
    assert held == 0
    answers = [bytes(client.answer) for client in bodies]
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[0][:300]
    assert all(b"application/problem+json" in answer for answer in answers)
    assert await asyncio.to_thread(lambda: httpx.get(f"{stack.sessions.url}/healthz").status_code) == 200
