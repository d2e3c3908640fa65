"""End-to-end fixtures: the daemon as a subprocess against real Redis and Postgres."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.console_browser import chromium, tabs
from tests.integration.pg_fixtures import pg_url
from tests.integration.redis_fixtures import redis_prefix

__all__ = ["DaemonProcess", "chromium", "pg_url", "redis_prefix", "tabs", "write_sink_config"]

SINK_CONFIG = """\
settings:
  retry: {max_retries: 5, initial_delay: 100ms, multiplier: 2, max_delay: 2s, jitter: 0.1}
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
routes:
  - name: default
    channels: [sink]
"""


def write_sink_config(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "routes.yaml").write_text(textwrap.dedent(SINK_CONFIG))
    return root


class DaemonProcess:
    """``python -m notifierd run`` with its own queue and key prefix; logs go to a file;
    ``watch``: reload when the config files change (off: tests reload when they mean to).
    One process (``--workers 1``), which the tests kill and signal, unless ``extra`` asks for
    more workers (the last ``--workers`` given counts)."""

    def __init__(
        self,
        config: Path,
        prefix: str,
        redis_url: str,
        postgres_url: str,
        sink_url: str,
        log: Path,
        *extra: str,
        watch: bool = False,
    ) -> None:
        self.args = [
            sys.executable,
            "-m",
            "notifierd",
            "run",
            "--config",
            str(config),
            "--queue",
            f"{prefix}:requests",
            "--key-prefix",
            prefix,
            "--heartbeat-ttl",
            "2",
            "--log-format",
            "json",
            *([] if watch else ["--no-watch"]),
            "--workers",
            "1",
            *extra,
        ]
        self.env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "POSTGRES_URL": postgres_url,
            "SINK_URL": sink_url,
            "SINK_SECRET": "e2e-secret",
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        out = open(self.log, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=out)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def terminate(self, timeout: float = 20) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(int(timeout * 10)):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.1)
        self.proc.kill()
        raise AssertionError(
            f"the daemon did not stop within {timeout}s on SIGTERM; log: {self.log.read_text()[-3000:]}"
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
async def daemons() -> AsyncIterator[list[DaemonProcess]]:
    """Every daemon a test starts is killed at the end, whatever happened."""
    started: list[DaemonProcess] = []
    yield started
    for d in started:
        if d.alive():
            d.kill()
