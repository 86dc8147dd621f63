"""The access line and the JSON log: no line is lost to a value JSON cannot hold, no annotation replaces what the
line says or breaks logging, the request's context never outlives it, and only requests with a body get a body
deadline."""

import io
import json
import logging
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from litestar import Request, get, post

from libs.common.app import ServiceApp
from libs.common.log import JsonFormatter, JsonLinesHandler, request_id_var
from libs.common.metrics import RequestMetrics
from libs.common.request_context import _annotations, annotate_request, request_context
from libs.common.slow_clients import may_have_body


@pytest.fixture
def lines() -> Iterator[io.BytesIO]:
    """What the `access` logger writes, as the services' JSON lines."""
    stream = io.BytesIO()
    handler = JsonLinesHandler(stream, "unit")  # type: ignore[arg-type]
    logger = logging.getLogger("access")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def written(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text either")


def test_a_value_json_cannot_hold_is_written_as_its_text_never_losing_the_line():
    formatter = JsonFormatter("unit")
    odd = {
        "id": uuid.UUID(int=1),
        "amount": Decimal("1.5"),
        "pair": {1, 2},
        "keys": {("tuple", "key"): 1},
        "broken": Unprintable(),
    }
    record = logging.makeLogRecord({"msg": "odd values", "fields": odd})

    line = json.loads(formatter.format(record))

    assert line["msg"] == "odd values"
    assert line["id"] == str(uuid.UUID(int=1))
    assert line["broken"] == "<Unprintable>"
    assert "keys" in line


def scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/x",
        "raw_path": b"/x",
        "query_string": b"",
        "headers": headers or [],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "root_path": "",
    }


async def serve(app: Any, request_scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(request_scope, receive, send)
    return sent


async def test_annotations_named_like_the_line_s_own_fields_or_log_record_attributes_keep_their_value(
    lines: io.BytesIO,
):
    async def handler(scope: Any, receive: Any, send: Any) -> None:
        annotate_request(status="mine", msg="mine too", name="a LogRecord attribute", args=(1,), clerk_id="user_1")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = request_context(RequestMetrics("unit"))(handler)
    await serve(app, scope())

    [line] = written(lines)
    assert (line["status"], line["msg"], line["method"]) == (204, "request", "GET")
    assert (line["status_"], line["msg_"], line["name"], line["clerk_id"]) == (
        "mine",
        "mine too",
        "a LogRecord attribute",
        "user_1",
    )


async def test_the_request_s_context_is_reset_even_when_the_app_fails(lines: io.BytesIO):
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        annotate_request(clerk_id="user_1")
        raise RuntimeError("boom")

    app = request_context(RequestMetrics("unit"))(failing)
    with pytest.raises(RuntimeError):
        await serve(app, scope())

    assert (request_id_var.get(), _annotations.get()) == (None, None)
    assert written(lines)[0]["status"] == 500


async def test_a_refusal_s_problem_type_is_on_its_access_line(lines: io.BytesIO):
    async def refusing(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/problem+json")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"type": "urn:problem:too-many", "status": 429}'})

    await serve(request_context(RequestMetrics("unit"))(refusing), scope())

    assert written(lines)[0]["problem"] == "urn:problem:too-many"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], False),
        ([(b"content-length", b"0")], False),
        ([(b"content-length", b"12")], True),
        ([(b"transfer-encoding", b"chunked")], True),
    ],
)
def test_a_body_may_follow_only_a_head_that_frames_one(headers: list[tuple[bytes, bytes]], expected: bool):
    assert may_have_body(scope("POST", headers)) is expected


async def test_the_body_deadline_is_armed_only_for_requests_with_a_body():
    seen: dict[str, str] = {}

    @get("/x", sync_to_thread=False)
    def read(request: Request[Any, Any, Any]) -> None:
        seen["GET"] = request.receive.__qualname__

    @post("/x", status_code=204, sync_to_thread=False)
    def write(request: Request[Any, Any, Any]) -> None:
        seen["POST"] = request.receive.__qualname__

    app = ServiceApp(service="unit", route_handlers=[read, write], logging_config=None, openapi_config=None)
    await serve(app, scope("GET"))
    await serve(app, scope("POST", [(b"content-length", b"2")]))

    assert seen["GET"] != "RequestBody.receive"
    assert seen["POST"] == "RequestBody.receive"
