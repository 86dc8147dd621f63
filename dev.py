"""Project entry for people and CI: makes the virtualenv and installs the project when needed, then

    python3 dev.py up                   runs the whole system locally (embedded PostgreSQL, the Clerk and
                                        LiveKit stand-ins, identity, sessions) until Ctrl-C
    python3 dev.py walkthrough          drives the running system through the three start-up scenarios and
                                        an interview's life in its room
    python3 dev.py test [pytest args]   runs the whole test suite
    python3 dev.py bench [--quick]      measures each hot path under load against PostgreSQL's own ceiling

Needs only Python 3.11+. The virtualenv lives in `.venv/` and is reinstalled when `pyproject.toml` changes.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"


def _pyproject_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_virtualenv() -> None:
    """Create `.venv` and install the project with its dev extras, unless it is already current."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file may be started by an older python3)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    digest = _pyproject_digest()
    if STAMP.exists() and STAMP.read_text() == digest and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing the project and its dependencies", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


COMMANDS = {
    "up": ["-m", "deploy.dev.devstack"],
    "walkthrough": ["-m", "deploy.dev.walkthrough"],
    "test": ["-m", "pytest"],
    "bench": ["-m", "bench.run"],
}


def main() -> None:
    command, *args = sys.argv[1:] or ["help"]
    if command not in COMMANDS:
        sys.exit(__doc__)
    ensure_virtualenv()
    os.chdir(ROOT)
    os.execv(PYTHON, [str(PYTHON), *COMMANDS[command], *args])  # noqa: S606 (our own venv interpreter)


if __name__ == "__main__":
    main()
