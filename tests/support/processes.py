"""Real processes on loopback for the tests: start, wait until they answer, stop without orphans."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """`python -m <module> serve --host 127.0.0.1 --port <free port>` with its stderr kept in a log file."""

    def __init__(self, module: str, env: Mapping[str, str], log_path: Path, *extra_args: str) -> None:
        self.module = module
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._env = {**os.environ, **env}
        self._args = [sys.executable, "-m", module, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._args += extra_args
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str = "/healthz", timeout: float = 20.0) -> "ServiceProcess":
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(self._args, env=self._env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.module} exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.module} did not become ready:\n{self.log_path.read_text()[-4000:]}")

    def kill(self, signum: int) -> None:
        """Send `signum` (SIGKILL: a crash) and reap the process; `start()` brings it back on the same port."""
        if self._process is not None:
            self._process.send_signal(signum)
            self._process.wait(timeout=10)
            self._process = None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 10 s; returns the exit code."""
        if self._process is None:
            return None
        process, self._process = self._process, None
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def logs(self) -> str:
        return self.log_path.read_text()
