"""How the OpenAPI documents describe refusals: every status a route can answer with its problem, as
`application/problem+json` in the RFC 9457 shape the services send (`errors.problem_details`), described once."""

from http import HTTPStatus

import msgspec
from litestar.openapi.datastructures import ResponseSpec

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One field that failed validation: where (`key`, `source`) and why; the value sent is never echoed."""

    message: str
    key: str | None = None
    source: str | None = None


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True):
    """RFC 9457 problem details: `type` (a `urn:problem:<slug>` a client can switch on), `title` (the same for
    every problem of that type), `status`, `detail` (for a person: what, and which field), and for a validation
    failure `errors`."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_MEANING = {
    400: "The request is malformed: not JSON, or a query parameter or cursor out of its bounds.",
    401: "Missing, invalid or expired credentials.",
    403: "Authenticated, but not allowed to do this.",
    404: "No such resource for this caller (another owner's looks the same as none).",
    408: "The request body did not arrive in time.",
    409: "The resource's state does not allow this now.",
    410: "The resource existed but is gone for good.",
    413: "The request body is larger than 1 MiB.",
    422: "A field is out of its bounds or of the wrong type; `detail` names it.",
    429: "Too many at once; retry after `Retry-After` seconds.",
    503: "A dependency is unavailable; retry after `Retry-After` seconds. Nothing was changed.",
}

WITH_BODY = (400, 408, 413, 422)
"""What any route that reads a JSON body can answer beyond its own refusals."""


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The `responses` of a route that can refuse with each of `statuses` (ordered, without repeats)."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_JSON,
            description=_MEANING.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }
