"""A worker arms its death signal against the supervisor that started it: one that died before
the worker got that far (a slow start under load) must stop the worker too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from notifierd.supervisor import SUPERVISOR_ENV

WORKER = (
    "import time\n"
    "from notifierd.supervisor import stop_with_supervisor\n"
    "stop_with_supervisor()\n"
    "time.sleep(0.5)\n"
)


def run_worker(supervisor_pid: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != SUPERVISOR_ENV}
    if supervisor_pid is not None:
        env[SUPERVISOR_ENV] = supervisor_pid
    return subprocess.run([sys.executable, "-c", WORKER], env=env, timeout=30).returncode


def test_a_worker_whose_supervisor_is_its_parent_runs_on() -> None:
    assert run_worker(str(os.getpid())) == 0


def test_a_worker_whose_supervisor_died_before_it_armed_the_signal_stops() -> None:
    # The parent here is this test, not the named supervisor: as if the supervisor had died and
    # the worker had been adopted by another process before it armed the signal.
    assert run_worker(str(os.getpid() + 1_000_000)) == -signal.SIGTERM


def test_a_worker_started_by_hand_takes_its_parent_for_the_supervisor() -> None:
    assert run_worker(None) == 0
