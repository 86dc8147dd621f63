"""RFC 9457 problem+json for every error a service returns, through Litestar's problem-details plugin: our
own problems, Litestar's HTTP exceptions (401, 404, 405, 413, validation) and the unexpected alike."""

import logging
from http import HTTPStatus
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.types import ExceptionHandlersMap

logger = logging.getLogger(__name__)


def _type(slug: str) -> str:
    return f"urn:problem:{slug}"


class Problem(ProblemDetailsException):
    """A failure the client should see: subclasses fix the status, the `type` slug and the title.

    `detail` is for a person reading the response: it names ids but never secrets, tokens or emails.
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title_text: ClassVar[str] = "Internal server error"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(
            detail=detail,
            status_code=self.status,
            headers=headers,
            extra=extra,
            type_=_type(self.slug),
            title=self.title_text,
        )


class ServiceUnavailable(Problem):
    """A dependency is down or overloaded; the client should retry after `Retry-After` seconds."""

    status = 503
    slug = "service-unavailable"
    title_text = "Service temporarily unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class InvalidCursor(Problem):
    """A paging cursor this service did not hand out (400)."""

    status = 400
    slug = "invalid-cursor"
    title_text = "Invalid cursor"


def _field_errors(exc: HTTPException) -> list[dict[str, Any]]:
    """The failures of a validation that are about fields inside the request body (msgspec's constraints and
    types); not one about the body as a whole (`key` "data": not an object, a required field missing)."""
    if not isinstance(exc, ValidationException) or not isinstance(exc.extra, list):
        return []
    return [
        error
        for error in exc.extra
        if isinstance(error, dict) and error.get("source") == "body" and error.get("key") not in (None, "data")
    ]


def _from_http_exception(exc: HTTPException) -> ProblemDetailsException:
    """Litestar's own exceptions, typed by their status phrase; a validation failure lists which field failed
    and why in `errors` (Litestar never echoes the submitted value). A JSON object whose field is out of its
    bounds or of the wrong type is 422, its `detail` naming each field; a body that is not such an object, and a
    bad query or path parameter, stay 400."""
    status, detail = exc.status_code, exc.detail
    errors = exc.extra if isinstance(exc, ValidationException) and isinstance(exc.extra, list) else None
    if field_errors := _field_errors(exc):
        status = 422
        detail = "; ".join(f"{error['key']}: {error.get('message')}" for error in field_errors)
    phrase = HTTPStatus(status).phrase
    return ProblemDetailsException(
        detail=detail or phrase,
        status_code=status,
        headers=exc.headers,
        extra={"errors": errors} if errors is not None else None,
        type_=_type(phrase.lower().replace(" ", "-")),
        title=phrase,
    )


def _from_recursion_error(_: RecursionError) -> ProblemDetailsException:
    # Only input nests deep enough for this (a JSON body of a thousand nested arrays, which msgspec and the
    # json module both decode recursively); our own code has no unbounded recursion.
    logger.warning("refused a request nested too deeply to read")
    return _from_http_exception(HTTPException("The request is nested too deeply to be read.", status_code=400))


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.error("unhandled error on %s %s", request.method, request.scope.get("path_template", "?"), exc_info=exc)
    problem = Problem("An unexpected error occurred.")
    return problem.to_response(request)


problem_details = ProblemDetailsPlugin(
    ProblemDetailsConfig(
        exception_to_problem_detail_map={HTTPException: _from_http_exception, RecursionError: _from_recursion_error}
    )
)
"""Pass to `Litestar(plugins=...)`, with `exception_handlers=unexpected_errors`."""

unexpected_errors: ExceptionHandlersMap = {Exception: _on_unexpected}
"""Anything else is a 500 problem with a logged traceback, never a stack trace in the response."""
