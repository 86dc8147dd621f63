"""The code stays lint-clean, formatted and strictly typed: CI runs these with the tests."""

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.dev.stack import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy"],  # strict, on libs/ and services/ (pyproject.toml)
    ],
    ids=" ".join,
)
def test_static_check_passes(command: list[str]):
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
