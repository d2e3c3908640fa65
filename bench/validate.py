"""Benchmark: cold `notifierd validate` on a large repository, and in-process routing rate.

Generates 1,000 routes, 50 channels, 100 policies and 300 template versions — twice: as is,
and with SCHEDULES on-call schedules (of 200 people) that every tenth route with a Slack or
e-mail channel names as a recipient — then, for both, paired in one run:
1. runs `notifierd validate DIR` as a whole new process RUNS times, alternating between the two
   repositories (min/median/max wall, peak RSS);
2. loads each snapshot once and routes 100,000 requests in-process, three rounds alternating
   between the two (decisions/s).
Usage: python bench/validate.py [--runs 5] [--requests 100000] [--schedules 100] [--keep DIR]
       python bench/validate.py --baseline OLD_CHECKOUT [--runs 9]
With --baseline, only cold validate of the repository without schedules, alternating between
this checkout's notifierd and the one at OLD_CHECKOUT (a tree with notifierd/ and schemas/ at its
top, e.g. from `git worktree add` or `git archive`): min/median CPU (user + system) and wall of
each, and the median of the per-pair ratios — the paired figure for one optimisation.
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


def _validate_once(repo: Path, checkout: Path | None = None) -> tuple[float, float, float]:
    """One cold ``notifierd validate`` of ``repo`` as a new process: (wall seconds, RSS MiB,
    CPU seconds). ``checkout``: run the notifierd in that tree instead of the installed one."""
    exe = Path(sys.executable).with_name("notifierd")
    if checkout is None and exe.exists():
        cmd = [str(exe), "validate", str(repo)]
        env = None
    else:
        cmd = [sys.executable, "-m", "notifierd", "validate", str(repo)]
        here = Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": str((checkout or here).resolve())}
    start = time.perf_counter()
    # cwd: not a checkout, so `-m notifierd` imports the tree PYTHONPATH names.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=repo.parent
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"validate failed (exit {code}) on {repo}:\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def compare_checkouts(repo: Path, baseline: Path, runs: int) -> None:
    """Cold validate by this checkout (A) and by ``baseline`` (B), in turn, after one warm-up
    each; the ratio A/B is taken pair by pair, so the shared machine's drift falls on both."""
    figures: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
    for round_ in range(runs + 1):
        pair = {}
        for name, checkout in (("A", None), ("B", baseline)):
            wall, _, cpu = _validate_once(repo, checkout)
            pair[name] = (cpu, wall)
        if round_:
            for name in pair:
                figures[name].append(pair[name])
    for name, label in (("A", "this checkout"), ("B", f"baseline {baseline}")):
        cpu = [c for c, _ in figures[name]]
        wall = [w for _, w in figures[name]]
        print(
            f"{name} ({label}): cpu min {min(cpu):.3f}s median {statistics.median(cpu):.3f}s; "
            f"wall min {min(wall):.3f}s median {statistics.median(wall):.3f}s"
        )
    for i, what in enumerate(("cpu", "wall")):
        ratios = [a[i] / b[i] for a, b in zip(figures["A"], figures["B"], strict=True)]
        print(
            f"A/B {what}: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, "
            f"max {max(ratios):.3f}, {runs} pairs)"
        )


def cold_validate(repos: list[Path], runs: int) -> list[tuple[list[float], list[float]]]:
    """(walls, RSS) per repository; the runs alternate between them, so a noisy neighbour on
    the shared machine slows both alike. The first round warms the page cache and is not
    counted."""
    measured: list[tuple[list[float], list[float]]] = [([], []) for _ in repos]
    for round_ in range(runs + 1):
        for (walls, rss), repo in zip(measured, repos, strict=True):
            wall, mib, _ = _validate_once(repo)
            if round_:
                walls.append(wall)
                rss.append(mib)
    return measured


def routing_rates(repos: list[Path], n: int, rounds: int = 3) -> list[tuple[list[float], float]]:
    """Per repository: decisions/s of each round, and deliveries per request. One router per
    repository, loaded once; the rounds alternate between them (a shared machine's noise
    falls on both)."""
    from notifierd.request import Request
    from notifierd.routing.router import Router
    from notifierd.validation import load_snapshot

    routers = [Router(load_snapshot(repo, with_git=False)) for repo in repos]
    requests = [Request.from_dict(r) for r in random_requests(n)]
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    results: list[tuple[list[float], float]] = [([], 0.0) for _ in repos]
    for router in routers:
        for r in requests[:1000]:
            router.route(r, now)
    for _ in range(rounds):
        for i, router in enumerate(routers):
            start = time.perf_counter()
            deliveries = 0
            for r in requests:
                deliveries += len(router.route(r, now).deliveries)
            elapsed = time.perf_counter() - start
            results[i][0].append(n / elapsed)
            results[i] = (results[i][0], deliveries / n)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument(
        "--schedules", type=int, default=100, help="schedules in the second repository (0: none)"
    )
    parser.add_argument("--keep", type=Path, help="write the repositories here and keep them")
    parser.add_argument(
        "--baseline", type=Path, help="compare cold validate with the notifierd in this tree"
    )
    args = parser.parse_args()
    if args.baseline:
        with tempfile.TemporaryDirectory(prefix="notifierd-bench-") as tmp_dir:
            repo = generate(Path(tmp_dir) / "config")
            print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
            compare_checkouts(repo, args.baseline, args.runs)
        return

    tmp = Path(tempfile.mkdtemp(prefix="notifierd-bench-"))
    base = args.keep or tmp
    repos = [generate(base / "config")]
    if args.schedules:
        repos.append(generate(base / "config-schedules", schedules=args.schedules))
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        )
        for repo in repos:
            files = sum(1 for _ in repo.rglob("*.yaml"))
            extra = f", {args.schedules} schedules" if repo.name == "config-schedules" else ""
            print(
                f"repository: {repo} ({files} files: 1000 routes, 50 channels, 100 policies, "
                f"300 template versions{extra})"
            )
        medians = []
        for repo, (walls, rss) in zip(repos, cold_validate(repos, args.runs), strict=True):
            medians.append(statistics.median(walls))
            print(
                f"cold validate {repo.name}: min {min(walls):.3f}s  median {medians[-1]:.3f}s  "
                f"max {max(walls):.3f}s  peak RSS {max(rss):.0f} MiB  ({args.runs} runs, "
                "target <= 1 s, issue 22)"
            )
        if len(medians) == 2:
            print(
                f"validate with schedules / without: {medians[1] / medians[0]:.3f} (target <= 1.10)"
            )
        for repo, (rates, per_request) in zip(
            repos, routing_rates(repos, args.requests), strict=True
        ):
            shown = ", ".join(f"{r:,.0f}" for r in rates)
            print(
                f"routing {repo.name}: best {max(rates):,.0f} decisions/s (rounds: {shown}) over "
                f"{args.requests:,} requests ({per_request:.2f} deliveries per request, "
                "target >= 50,000/s)"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
