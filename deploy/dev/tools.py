"""Command-line tools the benchmark and the tests need beyond Python packages, installed from Debian's
packages on first use (as root; otherwise the message says what to install)."""

import os
import shutil
import subprocess


class ToolMissing(Exception):
    pass


def debian_tool(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` first if it is missing."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0:
        raise ToolMissing(f"{command} is needed: install Debian's `{package}` package (apt-get install {package})")
    subprocess.run(
        ["/usr/bin/apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
    )
    found = shutil.which(command)
    if not found:
        raise ToolMissing(f"installing `{package}` gave no {command}")
    return found
