"""Benchmark: `notifierd validate` plus `notifierd test` on the 1,000-route repository with 200 cases.

Generates the repository of bench/validate.py, writes 200 config test cases (requests spread over
its matchers; expected routes, channels and escalation taken from one routing pass, so they pass),
then times `notifierd validate DIR && notifierd test DIR` as whole processes (target: under 3 s).
Usage: python bench/configtest.py [--runs 5] [--cases 200]
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

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genrepo import generate, random_requests

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def write_cases(repo: Path, n: int) -> None:
    from notifierd.request import Request
    from notifierd.routing.router import Router
    from notifierd.validation import load_snapshot

    router = Router(load_snapshot(repo, with_git=False))
    cases = []
    for i, data in enumerate(random_requests(n, seed=23)):
        data.pop("id")
        decision = router.route(Request.from_dict(data), AT)
        cases.append(
            {
                "name": f"case {i}",
                "at": AT.isoformat(),
                "request": data,
                "expect": {
                    "routes": list(decision.routes),
                    "channels": sorted({d.channel for d in decision.deliveries}),
                    "escalation": decision.escalation,
                },
            }
        )
    (repo / "tests").mkdir(exist_ok=True)
    (repo / "tests" / "bench.yaml").write_text(yaml.safe_dump({"cases": cases}, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="notifierd-configtest-"))
    try:
        repo = generate(tmp / "config")
        write_cases(repo, args.cases)
        exe = Path(sys.executable).with_name("notifierd")
        command = f"{exe} validate {repo} >/dev/null && {exe} test {repo} >/dev/null"
        walls = []
        for i in range(args.runs + 1):
            start = time.perf_counter()
            done = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(
                    f"validate/test failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
                )
            if i:
                walls.append(time.perf_counter() - start)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        print(
            f"validate + test, 1,000 routes and {args.cases} cases: min {min(walls):.2f}s  median "
            f"{statistics.median(walls):.2f}s  max {max(walls):.2f}s ({args.runs} runs, target < 3 s)"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
