"""Counting under `run --workers N`: each process's values in a file of its own, a forked child too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os
from notifierd import metrics
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

metrics.REQUESTS_BY("routed").inc()
child = os.fork()
if child == 0:  # e.g. the config's validating child: its counts must not land in our file
    metrics.REQUESTS_BY("routed").inc(2)
    os._exit(0)
os.waitpid(child, 0)
metrics.REQUESTS_BY("routed").inc()
registry = CollectorRegistry()
multiprocess.MultiProcessCollector(registry)
print(os.getpid(), child)
print(generate_latest(registry).decode())
"""


def test_a_forked_child_counts_in_a_file_of_its_own(tmp_path: Path) -> None:
    """The process id each count is filed under is read once, and again after a fork."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    parent, child = out.splitlines()[0].split()
    assert {p.name for p in tmp_path.glob("counter_*.db")} == {
        f"counter_{parent}.db",
        f"counter_{child}.db",
    }
    assert 'notifierd_requests_total{outcome="routed"} 4.0' in out
