"""The real Alertmanager (Debian's prometheus-alertmanager), alone (no cluster), for e2e tests
and bench/peer.py.

`.ci/run` installs it (scripts/ensure-alertmanager): a test run without it fails rather than
passing with the integration unchecked.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes import unused_port


def find_binary() -> str | None:
    """Alertmanager's path, or None when it is not installed."""
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def binary() -> str:
    """Alertmanager's path; fails the test when it is not installed."""
    found = find_binary()
    if found is None:
        pytest.fail("Alertmanager is not installed (scripts/ensure-alertmanager installs it)")
    return found


class Alertmanager:
    """One Alertmanager process on a free port, its data and log in ``workdir``."""

    def __init__(self, workdir: Path, config: str, *, debug: bool = False) -> None:
        self.workdir = workdir
        self.config = workdir / "alertmanager.yml"
        self.config.write_text(config)
        self.debug = debug
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        port = unused_port()
        self.url = f"http://127.0.0.1:{port}"
        args = [
            binary(),
            f"--config.file={self.config}",
            f"--storage.path={self.workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            *(["--log.level=debug"] if self.debug else []),
        ]
        with (self.workdir / "alertmanager.log").open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go within 10 s."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        """Dead, as a crashed Alertmanager is: SIGKILL, no goodbye."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
