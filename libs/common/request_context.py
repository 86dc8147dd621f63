"""Request ids and the access log: one JSON line per request, with an id that crosses service calls."""

import contextlib
import itertools
import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.headers import header
from libs.common.log import FIELDS, LINE_KEYS, request_id_var
from libs.common.metrics import RequestMetrics
from libs.common.openapi import PROBLEM_JSON

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_logger = logging.getLogger("access")
_annotations: ContextVar[dict[str, Any] | None] = ContextVar("access_annotations", default=None)
_QUIET = "_quiet"  # an annotation of our own, never logged: the line goes out at DEBUG
QUIET_WHEN_OK = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes: every few seconds from machines, so a success is logged at DEBUG (and counted)."""
UNMATCHED = "unmatched"
"""The route label of a request no route took (a 404, or a 405 for a method no route on that path takes): never
the raw path, which may carry anything."""


def annotate_request(**fields: Any) -> None:
    """Add `fields` to the access line of the request being served: one line per request says what it did
    (a second line per request would cost as much again)."""
    annotations = _annotations.get()
    if annotations is not None:
        annotations.update(fields)


def routine_request() -> None:
    """The request being served did nothing a person needs to read about (a poll that found nothing new): its
    access line is written at DEBUG, not INFO. It is still counted."""
    annotate_request(**{_QUIET: True})


_ID_PREFIX = os.urandom(8).hex()  # this process's, random
_ids = itertools.count()


def _new_prefix() -> None:
    global _ID_PREFIX  # noqa: PLW0603 (a forked child must not repeat its parent's ids)
    _ID_PREFIX = os.urandom(8).hex()


os.register_at_fork(after_in_child=_new_prefix)


def new_request_id() -> str:
    """32 hex digits: 16 random to this process, then a count (unique without a syscall per request)."""
    return f"{_ID_PREFIX}{next(_ids):016x}"


def _incoming_request_id(scope: Scope) -> str | None:
    candidate = header(scope, _REQUEST_ID_HEADER)
    return candidate if candidate is not None and _VALID_REQUEST_ID.match(candidate) else None


def _access_fields(method: str, route: str, status: int, seconds: float, annotations: dict[str, Any]) -> dict[str, Any]:
    """The access line's own fields, then the annotations; one named like a field the line already has keeps its
    value under `<name>_`: nothing replaces the access fields, and no annotation is lost."""
    fields: dict[str, Any] = {"method": method, "route": route, "status": status}
    fields["duration_ms"] = round(seconds * 1000, 2)
    for key, value in annotations.items():
        name = key
        while name in fields or name in LINE_KEYS:
            name += "_"
        fields[name] = value
    return fields


class _ProblemType(msgspec.Struct):
    type: str = ""


_problem_type = msgspec.json.Decoder(_ProblemType)
_PROBLEM_JSON = PROBLEM_JSON.encode()


def _is_problem(headers: Any) -> bool:
    return any(name.lower() == b"content-type" and value.startswith(_PROBLEM_JSON) for name, value in headers)


def request_context(metrics: RequestMetrics) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware, around the whole app, that takes `X-Request-ID` from the caller (or makes one), echoes
    it, and when the request ends logs it (with what the handler added by `annotate_request`, and the `type` of a
    problem+json refusal as `problem`) and counts it in `metrics`, under the status actually sent: every response,
    a 401 from a middleware, a 404 or 405 from the router, a 413 included.

    The logged line names the route template (`unmatched` without one), never the raw path or query, so ids in
    URLs and tokens in query strings stay out of the logs. A successful probe and a `routine_request` are
    logged at DEBUG. The request's context (its id, its annotations) is reset however the request ends.
    """

    def middleware(app: ASGIApp) -> ASGIApp:
        async def with_request_context(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = _incoming_request_id(scope) or new_request_id()
            token = request_id_var.set(request_id)
            annotations: dict[str, Any] = {}
            annotations_token = _annotations.set(annotations)
            try:
                await _serve(app, scope, receive, send, request_id=request_id, annotations=annotations, metrics=metrics)
            finally:
                _annotations.reset(annotations_token)
                request_id_var.reset(token)

        return with_request_context

    return middleware


async def _serve(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    request_id: str,
    annotations: dict[str, Any],
    metrics: RequestMetrics,
) -> None:
    started = time.perf_counter()
    status = 500
    problem = False
    method = str(scope.get("method"))
    metrics.begin()

    async def send_with_request_id(message: Message) -> None:
        nonlocal status, problem
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = message.get("headers", ())
            problem = status >= 400 and _is_problem(headers)
            message["headers"] = [*headers, (_REQUEST_ID_HEADER, request_id.encode())]
        elif problem and message["type"] == "http.response.body":
            problem = False  # a problem document comes whole in the first body message (Litestar's responses)
            with contextlib.suppress(msgspec.DecodeError):
                annotations["problem"] = _problem_type.decode(message.get("body", b"")).type
        await send(message)

    try:
        await app(scope, receive, send_with_request_id)
    finally:
        seconds = time.perf_counter() - started
        route = str(scope.get("path_template") or UNMATCHED)  # set by the router once it matched
        metrics.end(method, route, status, seconds)
        quiet = annotations.pop(_QUIET, False) or (status < 400 and route in QUIET_WHEN_OK)
        access_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "request",
            extra={FIELDS: _access_fields(method, route, status, seconds, annotations)},
        )
