"""What ships: the wheel (and so the container image, which installs it) holds the services and what they
share, and none of the dev-only parts: no stand-in of a third party, no dev stack, tests or benchmark."""

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.deploy.contract import ROOT


def test_the_built_wheel_holds_the_services_and_no_stand_in(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("*.whl")
    packages = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if "/" in name}
    modules = zipfile.ZipFile(wheel).namelist()

    assert {"libs", "services"} <= packages
    assert "services/identity/__main__.py" in modules
    assert "services/sessions/__main__.py" in modules
    assert not [name for name in modules if "standin" in name]
    assert not packages & {"deploy", "tests", "bench"}
