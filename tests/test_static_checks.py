"""The code stays lint-clean, formatted and strictly typed: CI runs these with the tests."""

import ast
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


SESSIONS = ROOT / "services" / "sessions"
# Each domain of sessions and the domains it may import from (their `__init__` docstrings say the same): one way,
# so no two domains import each other.
DOMAIN_IMPORTS = {
    "auth": set(),
    "recordings": set(),
    "consents": {"recordings"},
    "rooms": {"recordings"},
    "agents": {"consents", "rooms"},
    "users": {"auth", "recordings", "rooms"},
    "interviews": {"agents", "auth", "consents", "recordings", "rooms", "users"},
    "organizations": {"agents", "auth", "consents", "interviews", "recordings", "rooms", "users"},
    "rights": {"agents", "auth", "consents", "interviews", "recordings", "rooms", "users"},
}


def imported_domains(module: Path) -> set[str]:
    """The sessions domains `module` imports from (`services.sessions.<domain>...`)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["services", "sessions"] and len(parts) > 2 and parts[2] in DOMAIN_IMPORTS:
                found.add(parts[2])
    return found


def test_each_sessions_domain_is_a_folder_and_imports_go_one_way():
    folders = {path.parent.name for path in SESSIONS.glob("*/__init__.py")} - {"piccolo_migrations"}
    root_modules = {path.name for path in SESSIONS.glob("*.py")}

    assert folders == set(DOMAIN_IMPORTS)
    assert root_modules <= {
        "__init__.py",
        "__main__.py",
        "app.py",
        "settings.py",
        "runtime.py",
        "errors.py",
        "metrics.py",
        "tables.py",
        "piccolo_app.py",
        "piccolo_conf.py",
    }
    for domain, allowed in DOMAIN_IMPORTS.items():
        for module in (SESSIONS / domain).glob("*.py"):
            strays = imported_domains(module) - allowed - {domain}
            assert not strays, f"{module.relative_to(ROOT)} imports {sorted(strays)}: {domain} may import {allowed}"
