"""RFC 9457 problem+json for every error a service returns, domain and framework alike."""

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger(__name__)


class Problem(Exception):
    """A failure the client should see: subclasses fix the status, the `type` slug and the title.

    `detail` is for a person reading the response: it names ids but never secrets, tokens or emails.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class ServiceUnavailable(Problem):
    """A dependency is down or overloaded; the client should retry after `Retry-After` seconds."""

    status = 503
    slug = "service-unavailable"
    title = "Service temporarily unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def problem_response(
    status: int, *, slug: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body = {"type": f"urn:problem:{slug}", "title": title, "status": status, "detail": detail, **extra}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _on_problem(_: Request[Any, Any, Any], exc: Problem) -> Response[dict[str, Any]]:
    return problem_response(exc.status, slug=exc.slug, title=exc.title, detail=exc.detail, headers=exc.headers)


def _on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    phrase = HTTPStatus(exc.status_code).phrase
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        # Litestar lists which field failed and why; it does not echo the submitted value.
        extra["errors"] = exc.extra
    return problem_response(
        exc.status_code,
        slug=phrase.lower().replace(" ", "-"),
        title=phrase,
        detail=exc.detail or phrase,
        headers=exc.headers,
        **extra,
    )


def _on_too_deep(request: Request[Any, Any, Any], _: RecursionError) -> Response[dict[str, Any]]:
    # Only input nests deep enough for this (a JSON body of a thousand nested arrays, which msgspec and the
    # json module both decode recursively); our own code has no unbounded recursion.
    logger.warning("refused a request nested too deeply to read on %s", request.scope.get("path_template", "?"))
    return problem_response(
        400, slug="bad-request", title="Bad Request", detail="The request is nested too deeply to be read."
    )


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    logger.error(
        "unhandled error on %s %s",
        request.method,
        request.scope.get("path_template", "?"),
        exc_info=exc,
    )
    return problem_response(
        500, slug="internal-error", title="Internal server error", detail="An unexpected error occurred."
    )


exception_handlers: ExceptionHandlersMap = {
    Problem: _on_problem,
    HTTPException: _on_http_exception,
    RecursionError: _on_too_deep,
    Exception: _on_unexpected,
}
"""Pass to `Litestar(exception_handlers=...)`: every error leaves as problem+json, never a stack trace."""
