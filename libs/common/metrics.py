"""Prometheus metrics: per-route request counts and latency for every service, served on `/metrics`."""

from typing import Any, ClassVar

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

UNCOUNTED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})  # scrapes and probes would drown the rest


class RequestMetrics:
    """`<service>_requests_total`, `_request_duration_seconds`, `_requests_in_progress` and
    `_requests_error_total` (5xx) by method, route template (never the raw path, which carries ids), status
    and app: the series Litestar's Prometheus plugin names, which the alerts and the dashboard read.

    Fed by the `request_context` middleware with the status actually sent, so a rejection by the authentication
    middleware counts under its real status. Labelled children are cached: a request costs dict lookups.
    """

    _registered: ClassVar[dict[str, tuple[Counter, Histogram, Gauge, Counter]]] = {}

    def __init__(self, service: str) -> None:
        self.service = service
        if service not in self._registered:  # one set per process, however many apps a test builds
            labels = ["method", "path", "status_code", "app_name"]
            self._registered[service] = (
                Counter(f"{service}_requests_total", "Total requests", labels),
                Histogram(f"{service}_request_duration_seconds", "Request duration, in seconds", labels),
                Gauge(f"{service}_requests_in_progress", "Total requests currently in progress", labels),
                Counter(f"{service}_requests_error_total", "Total errors in requests", labels),
            )
        self._count, self._duration, self._in_progress, self._errors = self._registered[service]
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Counter | Histogram | Gauge, method: str, path: str, status: int) -> Any:
        key = (metric, method, path, status)
        if key not in self._children:
            self._children[key] = metric.labels(method, path, str(status), self.service)
        return self._children[key]

    def begin(self, method: str, path: str) -> None:
        if path not in UNCOUNTED_PATHS:
            self._child(self._in_progress, method, path, 200).inc()

    def end(self, method: str, path: str, status: int, seconds: float) -> None:
        if path in UNCOUNTED_PATHS:
            return
        self._child(self._in_progress, method, path, 200).dec()
        self._child(self._count, method, path, status).inc()
        self._child(self._duration, method, path, status).observe(seconds)
        if status >= 500:
            self._child(self._errors, method, path, status).inc()


class MetricsController(PrometheusController):
    """`GET /metrics`: the Prometheus text format of every series in this process."""

    include_in_schema = False
