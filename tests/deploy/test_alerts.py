"""deploy/alerts/rules.yaml: a well-formed Prometheus rule file whose every expression parses (the PromQL
parser of `promql-parser`) and refers only to series the services and the cluster really expose."""

import importlib
import re
from typing import Any

import pytest
import yaml

from tests.deploy.contract import DEPLOY
from tests.deploy.promql import COUNTERS, GAUGES, HISTOGRAMS, known_series, selectors

RULES = DEPLOY / "alerts" / "rules.yaml"
WEBHOOK_ADVICE = (
    "check your Clerk webhook configuration (endpoint URL, signing secret, subscribed events) "
    "and the Svix dashboard for failed deliveries"
)
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
SEVERITIES = {"critical", "warning", "info"}


def load_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    assert set(document) == {"groups"}
    rules = []
    group_names = [group["name"] for group in document["groups"]]
    assert len(group_names) == len(set(group_names)), "group names are unique"
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit", "labels"}
        assert group["rules"], f"group {group['name']} has rules"
        rules += group["rules"]
    return rules


RULE_LIST = load_rules()


def test_every_rule_is_a_complete_alert() -> None:
    names = [rule.get("alert") for rule in RULE_LIST]
    assert len(names) == len(set(names)), "alert names are unique"
    for rule in RULE_LIST:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule.get("alert")
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"])
        assert DURATION.match(rule["for"]), f"{rule['alert']}: for"
        assert rule["labels"]["severity"] in SEVERITIES
        annotations = rule["annotations"]
        assert annotations["summary"].strip()
        assert len(annotations["description"].strip()) > 80, f"{rule['alert']}: the description says what to check"
        assert "check" in annotations["description"].lower(), f"{rule['alert']}: the description says what to check"
        for text in annotations.values():
            assert text.count("{{") == text.count("}}"), f"{rule['alert']}: template braces"


@pytest.mark.parametrize("rule", RULE_LIST, ids=[rule["alert"] for rule in RULE_LIST])
def test_expression_parses_and_selects_only_real_series(rule: dict[str, Any]) -> None:
    try:
        found = selectors(rule["expr"])
    except ValueError as error:
        pytest.fail(f"{rule['alert']}: PromQL does not parse: {error}")
    assert found
    series = known_series()
    for name, matchers in found:
        assert name in series, f"{rule['alert']}: unknown series {name}"
        unknown = set(matchers) - {"__name__"} - series[name]
        assert not unknown, f"{rule['alert']}: {name} has no label {sorted(unknown)}"


def test_the_parser_rejects_broken_promql() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        selectors("sum(rate(identity_requests_total[5m])")


def alerts_selecting(name: str, **labels: str) -> list[dict[str, Any]]:
    return [
        rule
        for rule in RULE_LIST
        if any(
            selected == name and all(matchers.get(k) == v for k, v in labels.items())
            for selected, matchers in selectors(rule["expr"])
        )
    ]


def test_the_fallback_alert_sends_people_to_the_webhook_configuration() -> None:
    (rule,) = alerts_selecting("identity_users_created_total", path="ensure")
    assert WEBHOOK_ADVICE in " ".join(rule["annotations"]["description"].split())
    # A share of all new users, not an absolute count.
    assert "/" in rule["expr"]
    assert alerts_selecting("identity_users_created_total", cause="clerk_unavailable")


def test_every_signal_the_issue_names_has_an_alert() -> None:
    assert alerts_selecting("identity_webhook_events_total", outcome="rejected")
    assert alerts_selecting("identity_webhook_lag_seconds_bucket")
    assert alerts_selecting("identity_clerk_api_requests_total", status="429")
    assert alerts_selecting("identity_clerk_api_requests_total", status="5..|error")
    assert alerts_selecting("sessions_identity_rpc_failures_total")
    assert alerts_selecting("sessions_identity_rpc_duration_seconds_bucket")
    assert alerts_selecting("sessions_reconciler_corrections_total")
    assert alerts_selecting("sessions_reconciler_runs_total", outcome="ok")
    assert alerts_selecting("sessions_interviews_activated_total")
    assert alerts_selecting("sessions_interviews_past_report_grace_total", outcome="without_report")
    assert alerts_selecting("sessions_requests_total", path="/webhooks/livekit", status_code="401")
    assert alerts_selecting("sessions_storage_deletions_oldest_seconds")
    assert alerts_selecting("sessions_retention_lag_seconds")
    assert alerts_selecting("sessions_egress_calls_total", outcome="failed")
    assert alerts_selecting("up")
    assert alerts_selecting("kube_pod_status_ready")
    for service in ("identity", "sessions"):
        assert alerts_selecting(f"{service}_requests_total", status_code="5..")
    assert any(rule["labels"]["severity"] == "critical" for rule in RULE_LIST)


@pytest.mark.parametrize("service", ["identity", "sessions"])
def test_series_match_what_each_service_registers(service: str) -> None:
    """The label names above are the ones services/<service>/metrics.py declares."""
    metrics = importlib.import_module(f"services.{service}.metrics")

    declared = {
        f"{collector._name}_total" if collector._type == "counter" else collector._name: set(collector._labelnames)
        for collector in vars(metrics).values()
        if hasattr(collector, "_labelnames")
    }
    expected = {name: labels for name, labels in {**COUNTERS, **GAUGES, **HISTOGRAMS}.items() if name in declared}
    assert declared == expected
