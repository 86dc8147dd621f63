"""Prometheus metrics: per-route request counts and latency for every service, served on `/metrics`."""

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import ControllerRouterHandler, Middleware


def request_metrics(service: str) -> tuple[Middleware, ControllerRouterHandler]:
    """The middleware recording `<service>_requests_total` and `<service>_request_duration_seconds` by route
    template (never the raw path, which would carry ids), and the `/metrics` endpoint."""
    config = PrometheusConfig(
        app_name=service,
        prefix=service,
        group_path=True,
        exclude=["^/metrics", "^/healthz", "^/readyz"],
        exclude_unhandled_paths=True,
    )

    class MetricsController(PrometheusController):
        include_in_schema = False

    return config.middleware, MetricsController
