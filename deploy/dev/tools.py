"""Command-line tools the benchmark and the tests need beyond Python packages, installed from Debian's
packages on first use (as root; otherwise the message says what to install), and npm packages the tests run
under Node (vendors' SDKs), installed into a git-ignored cache."""

import json
import os
import shutil
import subprocess
from pathlib import Path

LOCK_WAIT_SECONDS = 300  # another apt (an unattended upgrade, a parallel install) may hold dpkg's lock


class ToolMissing(Exception):
    pass


def debian_tool(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` first if it is missing (updating the package lists
    when the install fails without them, and waiting for the dpkg lock another apt holds)."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0:
        raise ToolMissing(f"{command} is needed: install Debian's `{package}` package (apt-get install {package})")
    apt = ["/usr/bin/apt-get", "-o", f"DPkg::Lock::Timeout={LOCK_WAIT_SECONDS}", "-y", "-qq"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*apt, "install", "--no-install-recommends", package]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        # A fresh machine has no package lists yet (exit 100): fetch them, then try once more.
        subprocess.run([*apt, "update"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)
    found = shutil.which(command)
    if not found:
        raise ToolMissing(f"installing `{package}` gave no {command}")
    return found


NPM_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "npm"  # git-ignored, like .venv/


def npm_package(name: str, version: str) -> Path:
    """The folder of npm package `name` at exactly `version` (its `node_modules` beside it holds what it needs),
    installed on first use into `.cache/npm/` with Debian's `npm` (and `nodejs`), never into the repository."""
    debian_tool("node", "nodejs")
    npm = debian_tool("npm", "npm")
    prefix = NPM_CACHE / f"{name.replace('/', '+')}@{version}"
    package = prefix / "node_modules" / name
    manifest = package / "package.json"
    if not manifest.exists() or json.loads(manifest.read_text())["version"] != version:
        prefix.mkdir(parents=True, exist_ok=True)
        install = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix), f"{name}@{version}"]
        done = subprocess.run(install, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ToolMissing(f"npm could not install {name}@{version}: {done.stderr.strip()[-2000:]}")
    return package
