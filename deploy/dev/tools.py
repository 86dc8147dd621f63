"""Command-line tools the benchmark and the tests need beyond Python packages, installed from Debian's
packages on first use (as root; otherwise the message says what to install)."""

import os
import shutil
import subprocess

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
