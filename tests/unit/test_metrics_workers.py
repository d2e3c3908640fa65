"""Metrics of several workers added up: a worker that has not loaded its config yet must not
read as a refused reload."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKER = """
from notifierd import metrics
if {refuse}:
    metrics.CONFIG_LAST_RELOAD_OK.set(0)
"""

EXPOSE = """
from prometheus_client import generate_latest
from notifierd import metrics
for line in generate_latest(metrics.exposition_registry()).decode().splitlines():
    if line.startswith("notifierd_config_last_reload_successful"):
        print(line)
"""


def run(code: str, multiproc: Path) -> str:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_starting_worker_does_not_read_as_a_refused_reload(tmp_path: Path) -> None:
    # Each process below stays "live" for livemin: its pid file is never marked dead.
    run(WORKER.format(refuse=False), tmp_path)  # a worker that only imported the metrics
    lines = run(EXPOSE, tmp_path).splitlines()
    assert lines and all(line.endswith(" 1.0") for line in lines), lines


def test_one_worker_refusing_a_reload_shows(tmp_path: Path) -> None:
    run(WORKER.format(refuse=True), tmp_path)
    lines = run(EXPOSE, tmp_path).splitlines()
    assert lines and all(line.endswith(" 0.0") for line in lines), lines
