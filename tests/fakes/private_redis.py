"""A redis-server of a test's (or a benchmark's) own on a free loopback port, so stopping,
killing or restarting it disturbs nobody else — never the machine's shared Redis."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.fakes.private_postgres import free_port


class PrivateRedis:
    """``durable``: an append-only file fsynced per write, so a SIGKILL is a crash that keeps
    every acknowledged push (as a production Redis would); else nothing is kept on disk."""

    def __init__(self, workdir: Path, *, durable: bool = False) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.durable = durable
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ("--appendonly", "yes", "--appendfsync", "always")
            if self.durable
            else (
                "--appendonly",
                "no",
            )
        )
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", *persistence, "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"private redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
