"""``notifierd run --workers N``: N daemon processes on one machine, one per core.

The daemon is one Python process, so it uses one core; replicas already share a queue, retries and
escalations safely (Redis processing lists, Postgres claims). The supervisor starts N of them as
child processes, forwards SIGTERM, SIGINT and SIGHUP, starts a worker again when it dies (with a
growing pause, so a crash loop does not spin), and stops when told to. Only worker 0 serves the
HTTP listener; every worker writes its metrics to a shared directory (prometheus_client's
multiprocess mode), and worker 0's ``/metrics`` adds them up.

A worker started again gets its slot's consumer id back (intake/claim.py), so it takes what the
dead one held at once, and its config from ``refresh``'s last good copy (lastgood.py), so a
config broken on disk does not keep it down.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from notifierd.defaults import SHARED_VALIDATION_ENV

log = logging.getLogger("notifierd.supervisor")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_ENV = "NOTIFIERD_WORKER"
# The supervisor's pid, given to each worker: by the time a worker arms its death signal the
# supervisor may already be gone, and getppid() would then name whoever adopted it.
SUPERVISOR_ENV = "NOTIFIERD_SUPERVISOR_PID"
MAX_PAUSE = 30.0  # seconds before restarting a worker that keeps dying
# A worker failing this soon after the start failed to start (no Redis, no Postgres, port taken):
# starting it again would not help, so the supervisor stops with its status.
STARTUP_WINDOW = 10.0
MAX_WORKERS = 64
# Where cgroups are mounted: a CPU quota there (a container's, a systemd unit's CPUQuota=) caps
# the workers worth running: a pod limited to 2 CPUs on a 64-core node has 2 cores' worth of
# time, and 64 workers there would only share it, in 64 times the memory.
CGROUP_ROOT = Path("/sys/fs/cgroup")
OWN_CGROUPS = Path("/proc/self/cgroup")


@dataclass
class Worker:
    index: int
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    pause: float = 0.5  # before the next restart; doubles while it keeps dying young
    started_at: float = field(default=0.0)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. `taskset`, `--cpuset-cpus`),
    fewer if a CPU quota allows less time than that: the default of ``--workers``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, min(cores, MAX_WORKERS))


def cpu_quota() -> float | None:
    """CPUs' worth of time this process's cgroup quota allows (1.5: one and a half), or None
    (no quota)."""
    try:
        cgroups = OWN_CGROUPS.read_text()
    except OSError:
        return None
    for files in _quota_files(CGROUP_ROOT, cgroups):
        try:
            words = [word for name in files for word in name.read_text().split()]
        except OSError:
            continue
        if len(words) != 2 or words[0] in ("max", "-1"):  # v2 "max 100000"; v1 "-1" and a period
            return None
        try:
            quota, period = int(words[0]), int(words[1])
        except ValueError:
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


def _quota_files(root: Path, cgroups: str) -> list[tuple[Path, ...]]:
    """The files that may hold the quota, most specific first: this process's own cgroup (v2:
    ``cpu.max``; v1: the cpu controller's quota and period), then the mount's root, which is
    the container's own cgroup when the container has a cgroup namespace or its own mount."""
    found: list[tuple[Path, ...]] = []
    for line in cgroups.splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "-", "")
        own = path.strip().lstrip("/")
        if controllers == "":  # the unified (v2) hierarchy
            found += [(root / own / "cpu.max",), (root / "cpu.max",)]
        elif "cpu" in controllers.split(","):
            found += [
                (base / "cpu.cfs_quota_us", base / "cpu.cfs_period_us")
                for base in (root / "cpu" / own, root / "cpu")
            ]
    return list(dict.fromkeys(found))  # own == "": the same files twice


def stop_with_supervisor() -> None:
    """In a worker: be sent SIGTERM when the supervisor dies, even by SIGKILL.

    Without it a worker whose supervisor was killed outright keeps consuming, unsupervised and
    never restarted, and worker 0 keeps the listener's port from the next supervisor. Called
    first thing in a worker; a supervisor that died before it took effect (its pid in
    ``$NOTIFIERD_SUPERVISOR_PID`` is no longer the parent's) stops the worker at once. Linux only
    (prctl); elsewhere the service manager's process group kill has to do it."""
    try:
        supervisor = int(os.environ[SUPERVISOR_ENV])
    except (KeyError, ValueError):
        supervisor = os.getppid()  # started by hand with --worker-slot: its parent supervises
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def forward_signals(handler: Callable[[int], None]) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        handler(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)


def supervise(
    worker_args: Sequence[list[str]],
    *,
    poll: float = 0.2,
    refresh: Callable[[], object] | None = None,
    refresh_every: float = 1.0,
) -> int:
    """Run one child per argument list until SIGTERM/SIGINT; returns the exit status.

    ``refresh``: called every ``refresh_every`` seconds and before a worker is started again
    (it keeps the last good config the workers fall back to up to date)."""
    metrics_dir = tempfile.mkdtemp(prefix="notifierd-metrics-")
    # Inside the metrics directory (whose collector reads only its *.db files): removed with it.
    shared_validation = os.path.join(metrics_dir, "validations")
    os.mkdir(shared_validation, 0o700)
    env = {
        **os.environ,
        MULTIPROC_ENV: metrics_dir,
        SUPERVISOR_ENV: str(os.getpid()),
        SHARED_VALIDATION_ENV: shared_validation,
    }
    workers = [Worker(i, list(args)) for i, args in enumerate(worker_args)]
    stopping = False

    def on_signal(signum: int) -> None:
        nonlocal stopping
        if signum in (signal.SIGTERM, signal.SIGINT):
            stopping = True
        for w in workers:
            if w.process is not None and w.process.poll() is None:
                w.process.send_signal(signum)

    def start(w: Worker) -> None:
        w.process = subprocess.Popen(w.args, env={**env, WORKER_ENV: str(w.index)})
        w.started_at = time.monotonic()
        log.info("worker %d started (pid %d)", w.index, w.process.pid)
        if stopping:  # SIGTERM came while it was being started: it reached the old process only
            w.process.send_signal(signal.SIGTERM)

    forward_signals(on_signal)
    restart_at: dict[int, float] = {}
    status = 0
    began = refreshed = time.monotonic()
    try:
        for w in workers:
            start(w)
        while True:
            alive = 0
            for w in workers:
                assert w.process is not None
                code = w.process.poll()
                if code is None:
                    alive += 1
                    continue
                if stopping:
                    status = max(status, code if code > 0 else 0)
                    continue
                if code > 0 and time.monotonic() - began < STARTUP_WINDOW:
                    log.error("worker %d could not start (status %d); stopping", w.index, code)
                    on_signal(signal.SIGTERM)
                    status = code
                    continue
                if w.index not in restart_at:
                    _forget_metrics(metrics_dir, w.process.pid)
                    if time.monotonic() - w.started_at > 60:
                        w.pause = 0.5  # it ran a while: not a crash loop
                    log.error(
                        "worker %d (pid %d) exited with status %d; starting it again in %.1fs",
                        w.index,
                        w.process.pid,
                        code,
                        w.pause,
                    )
                    restart_at[w.index] = time.monotonic() + w.pause
                    w.pause = min(w.pause * 2, MAX_PAUSE)
                elif time.monotonic() >= restart_at[w.index]:
                    del restart_at[w.index]
                    _refresh(refresh)
                    start(w)
                alive += 1  # about to run again
            if stopping and alive == 0:
                return status
            if time.monotonic() - refreshed >= refresh_every:
                refreshed = time.monotonic()
                _refresh(refresh)
            time.sleep(poll)
    finally:
        for w in workers:
            if w.process is not None and w.process.poll() is None:
                w.process.terminate()
                w.process.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _refresh(refresh: Callable[[], object] | None) -> None:
    if refresh is None:
        return
    try:
        refresh()
    except Exception:  # the workers keep the copy they have; supervising must go on
        log.exception("refreshing the last good config failed")


def _forget_metrics(metrics_dir: str, pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay: they count what happened)."""
    from prometheus_client import multiprocess

    os.environ.setdefault(MULTIPROC_ENV, metrics_dir)
    multiprocess.mark_process_dead(pid, metrics_dir)
