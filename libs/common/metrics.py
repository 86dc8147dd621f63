"""Prometheus metrics: per-route request counts and latency for every service, served on `/metrics`."""

from typing import Any, ClassVar

from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "OTHER"


def method_label(method: str) -> str:
    """The request's method as a label: a standard method as sent, anything else `OTHER` (a client may send any
    token as its method, and each would otherwise be a series for the life of the process)."""
    return method if method in STANDARD_METHODS else OTHER_METHOD


class RequestMetrics:
    """`<service>_requests_total`, `_request_duration_seconds` and `_requests_error_total` (5xx) by method
    (`method_label`), route template (never the raw path, which carries ids; `unmatched` without a route), status and
    app: every label a client can influence takes one of a fixed set of values, the series Litestar's Prometheus
    plugin names, which the alerts and the dashboard read; and `_requests_in_progress` by app.

    Fed by the `request_context` middleware with the status actually sent, so every response is counted under
    its real status, probes and 404s included. Labelled children are cached: a request costs dict lookups.
    """

    _registered: ClassVar[dict[str, tuple[Counter, Histogram, Gauge, Counter]]] = {}

    def __init__(self, service: str) -> None:
        self.service = service
        if service not in self._registered:  # one set per process, however many apps a test builds
            labels = ["method", "path", "status_code", "app_name"]
            self._registered[service] = (
                Counter(f"{service}_requests_total", "Total requests", labels),
                Histogram(f"{service}_request_duration_seconds", "Request duration, in seconds", labels),
                Gauge(f"{service}_requests_in_progress", "Total requests currently in progress", ["app_name"]),
                Counter(f"{service}_requests_error_total", "Total errors in requests", labels),
            )
        self._count, self._duration, self._in_progress, self._errors = self._registered[service]
        self._children: dict[tuple[Any, ...], Any] = {}
        self._running = self._in_progress.labels(service)

    def _child(self, metric: Counter | Histogram, method: str, path: str, status: int) -> Any:
        key = (metric, method, path, status)
        if key not in self._children:
            self._children[key] = metric.labels(method, path, str(status), self.service)
        return self._children[key]

    def begin(self) -> None:
        """A request arrived (its route is known only once the router has matched it)."""
        self._running.inc()

    def end(self, method: str, path: str, status: int, seconds: float) -> None:
        """Count a request that ended; `method` as the client sent it (`method_label` bounds it here)."""
        method = method_label(method)
        self._running.dec()
        self._child(self._count, method, path, status).inc()
        self._child(self._duration, method, path, status).observe(seconds)
        if status >= 500:
            self._child(self._errors, method, path, status).inc()


class MetricsController(PrometheusController):
    """`GET /metrics`: the Prometheus text format of every series in this process."""

    include_in_schema = False
