"""Liveness and readiness probes, shared by every service."""

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from libs.common.db import Database


class Health(msgspec.Struct, frozen=True):
    status: str


@get("/healthz", exclude_from_auth=True, tags=["health"], sync_to_thread=False)
def healthz() -> Health:
    """The process is up and serving."""
    return Health(status="ok")


@get(
    "/readyz",
    exclude_from_auth=True,
    tags=["health"],
    responses={503: ResponseSpec(Health, description="The database does not answer; retry after `Retry-After`.")},
)
async def readyz(database: NamedDependency[Database]) -> Response[Health]:
    """Ready when the service's database answers; 503 otherwise, so load balancers stop routing to it."""
    if await database.is_reachable():
        return Response(Health(status="ready"))
    return Response(Health(status="database unreachable"), status_code=503, headers={"Retry-After": "2"})
