"""Benchmark: cold `notifierd validate` on a large repository, and in-process routing rate.

Generates 1,000 routes, 50 channels, 100 policies and 300 template versions, then
1. runs `notifierd validate DIR` as a whole new process RUNS times (min/median/max wall, peak RSS);
2. loads the snapshot once and routes 100,000 requests in-process (decisions/s).
Usage: python bench/validate.py [--runs 5] [--requests 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genrepo import generate, random_requests


def cold_validate(repo: Path, runs: int) -> tuple[list[float], list[float], int]:
    exe = Path(sys.executable).with_name("notifierd")
    cmd = [
        str(exe) if exe.exists() else sys.executable,
        *([] if exe.exists() else ["-m", "notifierd"]),
        "validate",
        str(repo),
    ]
    walls, rss_mib = [], []
    code = 0
    for _ in range(runs + 1):  # the first run warms the page cache and is not counted
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        code = proc.returncode
        if code != 0:
            raise SystemExit(f"validate failed (exit {code}) on the generated repository:\n{err}")
        walls.append(wall)
        rss_mib.append(usage.ru_maxrss / 1024)
    return walls[1:], rss_mib[1:], code


def routing_rate(repo: Path, n: int) -> tuple[float, float]:
    from notifierd.request import Request
    from notifierd.routing.router import Router
    from notifierd.validation import load_snapshot

    snapshot = load_snapshot(repo, with_git=False)
    router = Router(snapshot)
    requests = [Request.from_dict(r) for r in random_requests(n)]
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    for r in requests[:1000]:
        router.route(r, now)
    start = time.perf_counter()
    deliveries = 0
    for r in requests:
        deliveries += len(router.route(r, now).deliveries)
    elapsed = time.perf_counter() - start
    return n / elapsed, deliveries / n


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the repository here and keep it")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="notifierd-bench-"))
    repo = generate(args.keep or tmp / "config")
    try:
        files = sum(1 for _ in repo.rglob("*.yaml"))
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print(
            f"repository: {repo} ({files} files: 1000 routes, 50 channels, 100 policies, 300 template versions)"
        )
        walls, rss, _ = cold_validate(repo, args.runs)
        print(
            f"cold validate: min {min(walls):.3f}s  median {statistics.median(walls):.3f}s  "
            f"max {max(walls):.3f}s  peak RSS {max(rss):.0f} MiB  ({args.runs} runs, target <= 2 s)"
        )
        rate, per_request = routing_rate(repo, args.requests)
        print(
            f"routing: {rate:,.0f} decisions/s over {args.requests:,} requests "
            f"({per_request:.2f} deliveries per request, target >= 50,000/s)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
