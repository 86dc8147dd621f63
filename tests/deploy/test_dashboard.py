"""deploy/monitoring: the Grafana dashboard shows the signals a person watches, each panel's PromQL parses and
selects only real series, and the compose stack provisions it with Prometheus as its data source."""

import json
from typing import Any

import yaml

from tests.deploy.contract import DEPLOY
from tests.deploy.promql import known_series, selectors

MONITORING = DEPLOY / "monitoring"
DASHBOARD = json.loads((MONITORING / "grafana" / "dashboards" / "interviews.json").read_text())


def queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])]


def selected() -> set[str]:
    return {name for expr in queries() for name, _ in selectors(expr) if name}


def test_every_panel_query_parses_and_selects_only_real_series():
    series = known_series()
    assert queries()
    for expr in queries():
        for name, matchers in selectors(expr):
            assert name in series, f"unknown series {name} in {expr}"
            assert not set(matchers) - {"__name__"} - series[name], expr


def test_the_dashboard_shows_the_funnel_the_livekit_signals_and_the_fallback_rate():
    wanted = {
        "sessions_interviews_created_total",
        "sessions_interviews_activated_total",
        "sessions_interviews_ended_total",
        "sessions_interviews_expired_total",
        "sessions_livekit_webhooks_total",
        "sessions_reconciler_corrections_total",
        "sessions_reconciler_runs_total",
        "identity_users_created_total",  # the seed's fallback rate
        "sessions_user_feed_lag_seconds_bucket",
        "sessions_stale_starts_total",
        "sessions_interviews_past_report_grace_total",
        "sessions_agent_writes_refused_total",
        "sessions_invites_total",
        "sessions_org_templates_total",
        "sessions_background_failures_total",
    }
    assert wanted <= selected()
    assert any('path="ensure"' in expr and "/" in expr for expr in queries()), "the fallback share"


def test_compose_provisions_prometheus_with_the_rules_and_grafana_with_the_dashboard():
    services: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    mounts = {service: " ".join(spec.get("volumes", [])) for service, spec in services.items()}
    assert "./alerts/rules.yaml:/etc/prometheus/rules.yaml" in mounts["prometheus"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards" in mounts["grafana"]
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning" in mounts["grafana"]

    prometheus = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert "/etc/prometheus/rules.yaml" in prometheus["rule_files"]
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in prometheus["scrape_configs"]}
    assert jobs == {"identity": ["identity:8000"], "sessions": ["sessions:8000"]}  # the job names the rules assume

    provisioning = MONITORING / "grafana" / "provisioning"
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())["datasources"]
    [provider] = yaml.safe_load((provisioning / "dashboards" / "interviews.yaml").read_text())["providers"]
    assert source["url"] == "http://prometheus:9090"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    uids = {target["datasource"]["uid"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])}
    assert uids == {source["uid"]}
