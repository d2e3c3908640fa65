"""A throwaway Postgres cluster of one test's (or one benchmark's) own, to stop and start at will.

The machine's shared Postgres is never restarted; this one lives in a temporary directory, listens
on loopback only, on a free port, and ``remove()`` deletes it. Root cannot run Postgres, so under
root the cluster belongs to the ``postgres`` user, in a directory of its own that user can reach
(a test's ``tmp_path`` is private to root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path(os.environ.get("NOTIFIERD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivatePostgres:
    """``start()`` (initdb on first use), ``stop()``, ``start()`` again: data survives."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="notifierd-pg-"))
        self.data = self.workdir / "pgdata"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.workdir, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
        )

    def _init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N")

    def start(self) -> None:
        if not self.data.exists():
            self._init()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.workdir} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=100"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "30", "start")
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private Postgres did not start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: connections are cut, as in a restart; ``immediate``: as in a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)
