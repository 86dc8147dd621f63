"""The series the services and the cluster expose, and PromQL read back: what alert rules and dashboard
panels may select (tests/deploy)."""

import promql_parser

# Per-route series (libs/common/metrics.py: the names and labels of Litestar's Prometheus plugin), prefixed
# with the service name.
ROUTE_LABELS = {"method", "path", "status_code", "app_name"}
# Labels Prometheus attaches to every scraped series (target labels) and that the rules may use.
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service", "container", "endpoint"}
COUNTERS: dict[str, set[str]] = {
    "identity_users_created_total": {"path", "cause"},
    "identity_webhook_events_total": {"type", "outcome"},
    "identity_clerk_api_requests_total": {"operation", "status"},
    "identity_webhook_events_pruned_total": set(),
    "identity_pending_profile_refreshes_total": {"outcome"},
    "identity_requests_total": ROUTE_LABELS,
    "identity_requests_error_total": ROUTE_LABELS,
    "sessions_identity_rpc_failures_total": {"reason"},
    "sessions_interviews_created_total": set(),
    "sessions_interviews_reused_total": set(),
    "sessions_interviews_activated_total": set(),
    "sessions_interviews_ended_total": set(),
    "sessions_interviews_expired_total": set(),
    "sessions_interviews_refused_at_cap_total": set(),
    "sessions_livekit_webhooks_total": {"event", "outcome"},
    "sessions_reconciler_runs_total": {"outcome"},
    "sessions_reconciler_corrections_total": {"kind"},
    "sessions_stale_starts_total": set(),
    "sessions_user_feed_changes_total": {"change"},
    "sessions_user_feed_polls_total": {"outcome"},
    "sessions_room_removals_total": {"outcome"},
    "sessions_transcript_segments_stored_total": set(),
    "sessions_agent_reports_stored_total": set(),
    "sessions_agent_writes_refused_total": {"reason"},
    "sessions_interviews_past_report_grace_total": {"outcome"},
    "sessions_requests_total": ROUTE_LABELS,
    "sessions_requests_error_total": ROUTE_LABELS,
    "sessions_org_templates_total": {"action"},
    "sessions_invites_total": {"outcome"},
    "sessions_organization_feed_polls_total": {"outcome"},
    "sessions_organization_feed_changes_total": {"change"},
    "identity_background_failures_total": {"task"},
    "sessions_background_failures_total": {"task"},
    "sessions_consents_total": {"scope", "action"},
    "sessions_recordings_total": {"event"},
    "sessions_egress_calls_total": {"outcome"},
    "sessions_storage_deletions_total": {"outcome"},
    "sessions_decisions_total": {"decision"},
    "sessions_erasures_total": {"reason"},
    "sessions_exports_total": set(),
}
# libs/common/background.py's, per service and task.
GAUGES: dict[str, set[str]] = {
    f"{service}_background_{name}": {"task"}
    for service in ("identity", "sessions")
    for name in ("last_success_timestamp_seconds", "interval_seconds")
} | {
    "sessions_storage_deletions_pending": set(),
    "sessions_storage_deletions_oldest_seconds": set(),
    "sessions_retention_lag_seconds": set(),
}
HISTOGRAMS: dict[str, set[str]] = {
    "identity_webhook_lag_seconds": set(),
    "identity_request_duration_seconds": ROUTE_LABELS,
    "sessions_identity_rpc_duration_seconds": set(),
    "sessions_reconciler_duration_seconds": set(),
    "sessions_user_feed_lag_seconds": set(),
    "sessions_request_duration_seconds": ROUTE_LABELS,
}
# Prometheus' own and kube-state-metrics' series.
CLUSTER: dict[str, set[str]] = {
    "up": set(),
    "kube_pod_status_ready": {"condition", "uid"},
    "kube_pod_status_phase": {"phase", "uid"},
    "kube_deployment_status_replicas_available": {"deployment"},
}


def known_series() -> dict[str, set[str]]:
    """Every series name a rule may select, with the labels it may match on."""
    series = {name: labels | TARGET_LABELS for name, labels in {**COUNTERS, **GAUGES, **CLUSTER}.items()}
    for name, labels in HISTOGRAMS.items():
        series[f"{name}_bucket"] = labels | {"le"} | TARGET_LABELS
        series[f"{name}_count"] = labels | TARGET_LABELS
        series[f"{name}_sum"] = labels | TARGET_LABELS
    return series


def selectors(expr: str) -> list[tuple[str | None, dict[str, str]]]:
    """Each vector selector of a PromQL expression: its metric name and its label matchers."""
    found: list[tuple[str | None, dict[str, str]]] = []

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = {m.name: m.value for m in node.matchers.matchers}
            found.append((node.name or matchers.get("__name__"), matchers))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found
