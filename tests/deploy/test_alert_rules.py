"""`promtool test rules` on deploy/alerts/rules.test.yaml: every alert fires on the series that should wake a
person and stays quiet on a healthy variant. promtool comes from Debian's `prometheus` package, installed on
first use as the benchmark installs wrk."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.dev.tools import debian_tool
from tests.deploy.contract import DEPLOY

ALERTS = DEPLOY / "alerts"


@pytest.fixture(scope="module")
def promtool() -> str:
    return debian_tool("promtool", "prometheus")


def rules_without_annotations() -> dict[str, object]:
    """The wording of summaries and descriptions is test_alerts.py's business; here only firing counts."""
    rules = yaml.safe_load((ALERTS / "rules.yaml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations")
    return rules


def test_every_alert_fires_when_it_should_and_stays_quiet_otherwise(promtool: str, tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules_without_annotations()))
    shutil.copy(ALERTS / "rules.test.yaml", tmp_path)

    command = [promtool, "test", "rules", "rules.test.yaml"]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "SUCCESS" in run.stdout


def test_every_alert_has_a_firing_and_a_quiet_test():
    groups = yaml.safe_load((ALERTS / "rules.yaml").read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"]}
    fires: set[str] = set()
    quiet: set[str] = set()
    for test in yaml.safe_load((ALERTS / "rules.test.yaml").read_text())["tests"]:
        for check in test["alert_rule_test"]:
            (fires if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fires == alerts
    assert quiet == alerts
