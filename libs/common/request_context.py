"""Request ids and the access log: one JSON line per request, with an id that crosses service calls."""

import logging
import re
import time
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.log import request_id_var
from libs.common.metrics import RequestMetrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_logger = logging.getLogger("access")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware(ASGIMiddleware):
    """Takes `X-Request-ID` from the caller (or makes one), echoes it, and when the request ends logs it and
    counts it in `metrics`, under the status actually sent.

    The logged line names the route template, never the raw path or query, so ids in URLs and tokens in
    query strings stay out of the logs. One middleware for the three, as each layer costs on every request.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: RequestMetrics) -> None:
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        method = str(scope.get("method", "?"))
        route = str(scope.get("path_template") or "?")
        self.metrics.begin(method, route)

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await next_app(scope, receive, send_with_request_id)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.end(method, route, status, seconds)
            access_logger.info(
                "request",
                extra={"method": method, "route": route, "status": status, "duration_ms": round(seconds * 1000, 2)},
            )
            request_id_var.reset(token)
