"""The frame every service shares: lifespan-owned resources, errors, request context, probes, OpenAPI."""

import gc
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar, cast

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, ControllerRouterHandler, Receive, Scope, Send

from libs.common.db import Database
from libs.common.errors import problem_details, unexpected_errors
from libs.common.health import healthz, readyz
from libs.common.log import configure_logging, written_in_batches
from libs.common.metrics import MetricsController, RequestMetrics
from libs.common.request_context import request_context
from libs.common.slow_clients import RequestBody, may_have_body

MAX_REQUEST_BODY_BYTES = 1024 * 1024


def _provide(value: object) -> Provide:
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


class ServiceApp(Litestar):
    """A Litestar app that every HTTP request enters through `request_context`, outside Litestar's own
    exception handling, CORS and routing: each response, whoever made it (a middleware's 401, the router's 404
    or 405, a 413, a CORS preflight), gets its request id, one access line and its count, as sent.

    Litestar's CORS (`cors_config`) covers a whole app; `cors_prefix` narrows it to the paths under that prefix:
    elsewhere the request reaches the app without its `Origin`, so CORS grants nothing there (no route outside
    the prefix reads `Origin`).

    A request with a body (`slow_clients.may_have_body`) whose body is not in within
    `slow_clients.BODY_READ_TIMEOUT_SECONDS` is answered 408, and what the app left of it unread is drained after
    the answer (`slow_clients.RequestBody`)."""

    def __init__(self, *, service: str, cors_prefix: str = "/", **config: Any) -> None:
        super().__init__(**config)
        self._entry: ASGIApp = request_context(RequestMetrics(service))(super().__call__)
        self._cors_prefix = cors_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] != ScopeType.HTTP:
            await self._entry(scope, receive, send)
            return
        if not scope["path"].startswith(self._cors_prefix):
            without_origin = [(name, value) for name, value in scope["headers"] if name != b"origin"]
            scope = cast(Scope, {**scope, "headers": without_origin})
        if not may_have_body(scope):  # no deadline to arm, nothing to drain
            await self._entry(scope, receive, send)
            return
        body = RequestBody(receive)
        await self._entry(scope, body.receive, send)
        await body.drain()


def build_service_app(
    *,
    title: str,
    database: Database,
    route_handlers: Sequence[ControllerRouterHandler],
    provides: Mapping[str, object] | None = None,
    resources: Sequence[Callable[[], AbstractAsyncContextManager[Any]]] = (),
    cors_config: CORSConfig | None = None,
    cors_prefix: str = "/",
    security_schemes: Mapping[str, SecurityScheme] | None = None,
) -> Litestar:
    """A Litestar app whose lifespan opens `database` and then each of `resources`, closing them in reverse.

    `database` and each of `provides` are injected into handlers by name (`NamedDependency[T]`); `cors_config`
    applies to the paths under `cors_prefix` only; `security_schemes` are named in the OpenAPI document, for
    routers' `security` to refer to.
    """
    singletons = {"database": database, **(provides or {})}

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(written_in_batches())
            await database.open()
            stack.push_async_callback(database.close)
            for resource in resources:
                await stack.enter_async_context(resource())
            # Everything made so far (modules, the app, its resources) lives as long as the process: out of
            # the collector's sight, a full collection walks only what requests made, not the whole heap.
            gc.freeze()
            yield

    return ServiceApp(
        service=title,
        route_handlers=[healthz, readyz, MetricsController, *route_handlers],
        lifespan=[lifespan],
        dependencies={name: _provide(value) for name, value in singletons.items()},
        plugins=[problem_details],
        exception_handlers=unexpected_errors,
        cors_config=cors_config,
        cors_prefix=cors_prefix,
        request_max_body_size=MAX_REQUEST_BODY_BYTES,
        logging_config=None,  # libs.common.log.configure_logging owns logging
        openapi_config=OpenAPIConfig(
            title=title,
            version="1.0.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=Components(security_schemes=dict(security_schemes)) if security_schemes else Components(),
        ),
    )


SettingsT = TypeVar("SettingsT")


def from_environment(
    service: str, load_settings: Callable[[Mapping[str, str]], SettingsT], create_app: Callable[[SettingsT], Litestar]
) -> Litestar:
    """The app as `serve` builds it in each worker (a process of its own when WEB_CONCURRENCY > 1, which starts
    without the parent's logging): logging configured, settings read from the environment."""
    configure_logging(service, os.environ.get("LOG_LEVEL", "INFO"))
    return create_app(load_settings(os.environ))
