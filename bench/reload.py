"""Benchmark: a hot reload of the 1,000-route config while requests flow (issue 22 §3).

Generates two versions of the bench/validate.py repository (1,000 routes, 50 channels, 100
policies, 300 template versions): the second with other routes (another seed) and the text of
every template version changed, so a reload compiles templates rather than finding them cached.
Each version's first route sends the benchmark's requests to a webhook channel on the fast sink
(bench/sink.py), `sink-a` in the first and `sink-b` in the second: the sink tells which snapshot
routed each request. Starts `notifierd run` (watching its config, `--http` on loopback) on the
first, pushes requests at a steady rate (default 500/s) carrying their send time, and swaps in
the second mid-run: every file rewritten in place, each replaced atomically (`--swap rewrite`),
or the symlink that is the config directory replaced (`--swap link`, as git-sync does; the
daemon looks where the link leads once a second). Reports
  (a) from the change to the new snapshot active: worker 0's `loaded_at` (GET /api/v1/config);
      the send time of the first request routed by the new snapshot; and that of the last one
      routed by the old (every worker has switched after it);
  (b) enqueue-to-delivery latency p50 / p99 / max of the requests sent in the --window seconds
      from the change, and of all the others;
  (c) requests never delivered, and requests delivered more than once.
Uses the local Redis and Postgres (REDIS_URL / NOTIFIERD_BENCH_PG_ADMIN); its own database and keys.
Usage: python bench/reload.py [--workers 1] [--rate 500] [--seconds 15] [--swap-at 5]
                              [--window 3] [--swap rewrite|link] [--same-templates]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import yaml
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is scripts, not a package
from genrepo import generate
from throughput import ADMIN, REDIS_URL, create_database, percentile, start_sink

SOURCE = "reload-bench"  # what the benchmark's requests carry, and its first route matches


@dataclass
class Latency:
    count: int = 0
    p50: float = float("nan")  # milliseconds
    p99: float = float("nan")
    max: float = float("nan")

    @classmethod
    def of(cls, values: list[float]) -> Latency:
        if not values:
            return cls()
        return cls(len(values), statistics.median(values), percentile(values, 0.99), max(values))

    def __str__(self) -> str:
        return (
            f"p50 {self.p50:.1f} ms, p99 {self.p99:.1f} ms, max {self.max:.1f} ms "
            f"({self.count:,} requests)"
        )


@dataclass
class Report:
    sent: int = 0
    rate: float = 0.0  # achieved
    swap_took: float = 0.0  # seconds the swap itself took (renaming the files into place)
    loaded_after: float | None = None  # worker 0's loaded_at, seconds after the change
    first_new_after: float | None = None  # send time of the first request the new config routed
    last_old_after: float | None = None  # send time of the last request the old config routed
    routed_old: int = 0
    routed_new: int = 0
    timeline: list[tuple[int, Latency]] = field(default_factory=list)  # per second from the change
    during: Latency = field(default_factory=Latency)
    outside: Latency = field(default_factory=Latency)
    lost: int = 0
    duplicates: int = 0
    daemon_log: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(root: Path, *, seed: int, sink: str, routes: int, templates: int) -> Path:
    """The bench/validate.py repository, its first route sending this benchmark's requests to
    ``sink``; ``seed`` changes the routes, and the template text names the sink, so two
    versions share no template piece."""
    generate(root, routes=routes, templates=templates, versions=3, seed=seed)
    doc = yaml.safe_load((root / "routes.yaml").read_text())
    sink_channel = {"type": "webhook", "url": "${SINK_URL}", "secret": "${SINK_SECRET}"}
    doc["channels"] = {sink: sink_channel, **doc["channels"]}
    bench_route = {"name": "reload-bench", "matchers": [f'source="{SOURCE}"'], "channels": [sink]}
    doc["routes"] = [bench_route, *doc["routes"]]
    (root / "routes.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def change_templates(root: Path, marker: str) -> None:
    """Change the first line of every template version's text (``tmpl_1 v2: generated
    template``) to say ``marker`` instead: no compiled piece of theirs is cached any more."""
    for path in (root / "templates").rglob("*.yaml"):
        text = re.sub(r"(v\d+: )[\w-]+( template)", rf"\g<1>{marker}\g<2>", path.read_text())
        path.write_text(text)


def stage(target: Path, source: Path) -> Path:
    """A copy of ``source`` beside ``target``, for :func:`rewrite` to move in."""
    staging = target.parent / f".{target.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    return staging


def rewrite(target: Path, staging: Path) -> None:
    """Replace every file under ``target`` by the one under ``staging``, each atomically, one
    after another (a few milliseconds: the daemon's watcher sees one change)."""
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
    shutil.rmtree(staging)


def relink(link: Path, target: Path) -> None:
    staged = link.with_name(f".{link.name}.new")
    staged.symlink_to(target)
    os.replace(staged, link)


def environment_for(config: Path) -> dict[str, str]:
    """A value for every ${NAME} the generated channels name (they are never sent to)."""
    names = set(re.findall(r"\$\{(\w+)\}", (config / "routes.yaml").read_text()))
    return {name: "https://example.invalid/unused" for name in names}


async def wait_ready(
    http: aiohttp.ClientSession, url: str, daemon: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError("the daemon exited while starting")
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("the daemon did not become ready in 180 s")


async def run(
    *,
    workers: int = 1,
    rate: int = 500,
    seconds: float = 15.0,
    swap_at: float = 5.0,
    window: float = 3.0,
    swap: str = "rewrite",
    routes: int = 1000,
    templates: int = 100,
    same_templates: bool = False,
    workdir: Path | None = None,
    log_level: str = "WARNING",
    log: Any = print,
) -> Report:
    """One run: its own database, Redis prefix, sink and daemon; all stopped after."""
    work = workdir or Path(tempfile.mkdtemp(prefix="notifierd-reload-"))
    old = write_config(work / "a", seed=7, sink="sink-a", routes=routes, templates=templates)
    new = write_config(work / "b", seed=8, sink="sink-b", routes=routes, templates=templates)
    if not same_templates:
        change_templates(new, "regenerated")
    config = work / "config"
    if swap == "link":
        config.symlink_to(old)
    else:
        shutil.copytree(old, config)
        staged = stage(config, new)
    report = Report()
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    queue = f"{prefix}:requests"
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    sink_out = work / "sink.jsonl"
    sink, sink_port = start_sink(sink_out)
    http_port = free_port()
    env = {
        **os.environ,
        **environment_for(old),
        "REDIS_URL": REDIS_URL,
        "POSTGRES_URL": pg_url,
        "SINK_URL": f"http://127.0.0.1:{sink_port}/hook",
        "SINK_SECRET": "bench",
        "NOTIFIERD_LOG_FORMAT": "json",
    }
    daemon_log = (work / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifierd",
            "run",
            "--config",
            str(config),
            "--queue",
            queue,
            "--key-prefix",
            prefix,
            "--workers",
            str(workers),
            "--log-level",
            log_level,
            "--http",
            f"127.0.0.1:{http_port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=daemon_log,
    )
    redis = Redis.from_url(REDIS_URL)
    api = f"http://127.0.0.1:{http_port}"
    changed = float("nan")
    try:
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, f"{api}/readyz", daemon)
            if workers > 1:
                await asyncio.sleep(3)  # worker 0 serves /readyz; let the others start too
            log(f"daemon ready; {rate}/s for {seconds:g} s, the swap ({swap}) after {swap_at:g} s")
            n = int(rate * seconds)
            swapped: asyncio.Task[None] | None = None
            t0 = time.perf_counter()
            for i in range(n):
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if swapped is None and time.perf_counter() - t0 >= swap_at:

                    def do_swap() -> None:
                        nonlocal changed
                        began = time.time()
                        if swap == "link":
                            relink(config, new)
                        else:
                            rewrite(config, staged)
                        changed = time.time()
                        report.swap_took = changed - began

                    swapped = asyncio.create_task(asyncio.to_thread(do_swap))
                request = {
                    "id": f"reload-{i}",
                    "title": "Reload benchmark",
                    "message": "steady-rate request",
                    "source": SOURCE,
                    "metadata": {"sent_at": time.time()},
                }
                await redis.lpush(queue, json.dumps(request))  # type: ignore[misc]
            report.sent = n
            report.rate = n / (time.perf_counter() - t0)
            if swapped is not None:
                await swapped
            # Every request delivered (or the wait gives up); then a moment for any repeat.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if daemon.poll() is not None:
                    raise RuntimeError("the daemon died")
                if await delivered(pg_url) >= n:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(1)
            # Worker 0's snapshot: on a busy machine validating may outlast the load.
            deadline = time.monotonic() + 180
            while report.loaded_after is None and time.monotonic() < deadline:
                async with http.get(f"{api}/api/v1/config") as response:
                    status = await response.json()
                loaded = datetime.fromisoformat(status["loaded_at"]).timestamp()
                if loaded > changed:
                    report.loaded_after = loaded - changed
                else:
                    await asyncio.sleep(0.5)
    finally:
        if daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(10)
        sink.terminate()
        sink.wait(60)
        daemon_log.close()
        await redis.aclose()
        await cleanup(admin, db, prefix)
    records = [json.loads(line) for line in sink_out.read_text().splitlines()]
    seen = Counter(r["id"] for r in records)
    report.lost = sum(1 for i in range(report.sent) if f"reload-{i}" not in seen)
    report.duplicates = sum(c - 1 for c in seen.values())
    first: dict[str, dict[str, Any]] = {}  # each request's first delivery
    for r in sorted(records, key=lambda r: r["at"]):
        first.setdefault(r["id"], r)
    by_old = [r["sent_at"] - changed for r in first.values() if r["channel"] == "sink-a"]
    by_new = [r["sent_at"] - changed for r in first.values() if r["channel"] == "sink-b"]
    report.routed_old, report.routed_new = len(by_old), len(by_new)
    report.last_old_after = max(by_old) if by_old else None
    report.first_new_after = min(by_new) if by_new else None
    during: list[float] = []
    outside: list[float] = []
    for r in first.values():
        ms = (r["at"] - r["sent_at"]) * 1000
        (during if 0 <= r["sent_at"] - changed < window else outside).append(ms)
    report.during, report.outside = Latency.of(during), Latency.of(outside)
    seconds_in: dict[int, list[float]] = {}
    for r in first.values():
        second = int((r["sent_at"] - changed) // 1)
        seconds_in.setdefault(second, []).append((r["at"] - r["sent_at"]) * 1000)
    report.timeline = [(s, Latency.of(v)) for s, v in sorted(seconds_in.items())]
    report.daemon_log = (work / "daemon.log").read_text()[-3000:]
    if workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return report


async def delivered(pg_url: str) -> int:
    conn = await asyncpg.connect(pg_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM deliveries WHERE status = 'delivered' "
                "AND request_id LIKE 'reload-%'"
            )
        )
    finally:
        await conn.close()


async def cleanup(admin: asyncpg.Connection, db: str, prefix: str) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    await admin.close()
    redis = Redis.from_url(REDIS_URL)
    keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def loop_lag(
    root: Path, other: Path, validate: Any, *, freeze: bool, tick: float = 0.002
) -> tuple[float, Latency]:
    """Swap ``other`` into a ConfigHolder of ``root`` (reloaded with ``validate``) while a task
    on the loop wakes every ``tick`` s: (seconds to the swap, how late the wake-ups were)."""
    from notifierd.active import ConfigHolder
    from notifierd.reloads import Reloads

    config = root.parent / "lag-config"
    shutil.rmtree(config, ignore_errors=True)
    shutil.copytree(root, config)
    holder = ConfigHolder.load(config, validate=validate)
    if freeze:
        gc.collect()
        gc.freeze()
    lateness: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            due = time.perf_counter() + tick
            await asyncio.sleep(tick)
            lateness.append((time.perf_counter() - due) * 1000)

    staged = stage(config, other)  # copying takes a while: before the ticker counts
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.2)
    rewrite(config, staged)  # a few renames, on the loop: the tick they delay is not counted
    await asyncio.sleep(0.05)
    lateness.clear()
    began = time.perf_counter()
    swapped = await Reloads(holder).reload("benchmark")
    took = time.perf_counter() - began
    done.set()
    await task
    rewrite(config, stage(config, root))  # back, for the next round
    if not swapped:
        raise RuntimeError("the reload did not swap")
    return took, Latency.of(lateness)


async def loop_lag_rounds(rounds: int, routes: int, templates: int) -> None:
    """In one process: a reload validated in a thread (default switch interval, and 0.5 ms)
    against one validated in a forked child, alternating; no daemon, no Redis."""
    from notifierd import offloop
    from notifierd.validation import validate_repository

    work = Path(tempfile.mkdtemp(prefix="notifierd-looplag-"))
    old = write_config(work / "a", seed=7, sink="sink-a", routes=routes, templates=templates)
    new = write_config(work / "b", seed=8, sink="sink-b", routes=routes, templates=templates)
    change_templates(new, "regenerated")
    interval = sys.getswitchinterval()
    # (how to validate, switch interval, gc.freeze() after the first load as the daemon does)
    ways: dict[str, tuple[Any, float, bool]] = {
        "thread (before)": (validate_repository, interval, False),
        "thread, switch interval 0.5 ms": (validate_repository, 0.0005, False),
        "forked child": (offloop.validate_in_child, interval, False),
        "forked child + gc.freeze (the daemon now)": (offloop.validate_in_child, interval, True),
    }
    for n in range(rounds):
        for name, (validate, switch, freeze) in ways.items():
            sys.setswitchinterval(switch)
            try:
                # Each round changes the templates again, so none of them is cached.
                change_templates(new, f"round{n}-{len(name)}")
                took, lag = await loop_lag(old, new, validate, freeze=freeze)
            finally:
                sys.setswitchinterval(interval)
                gc.unfreeze()
            late = str(lag).replace("requests", "ticks")
            print(f"round {n + 1}, {name}: swapped after {took:.2f} s; 2 ms ticks late by {late}")
    shutil.rmtree(work, ignore_errors=True)


def after(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:+.3f} s"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--swap-at", type=float, default=5.0, help="seconds into the load")
    parser.add_argument("--window", type=float, default=3.0, help="seconds after the change")
    parser.add_argument("--swap", choices=["rewrite", "link"], default="rewrite")
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--templates", type=int, default=100, help="names, 3 versions each")
    parser.add_argument(
        "--same-templates",
        action="store_true",
        help="leave the templates as they were (only routes.yaml changes meaning)",
    )
    parser.add_argument("--keep", type=Path, help="work here (configs, logs) and keep it")
    parser.add_argument(
        "--log-level", default="WARNING", help="the daemon's (its log is kept with --keep)"
    )
    parser.add_argument(
        "--timeline", action="store_true", help="also the latency of each second's requests"
    )
    parser.add_argument(
        "--loop-lag",
        type=int,
        metavar="ROUNDS",
        help="instead: in one process, how late a 2 ms ticker on the loop runs while a reload "
        "validates in a thread or in a forked child",
    )
    args = parser.parse_args()
    if args.loop_lag:
        await loop_lag_rounds(args.loop_lag, args.routes, args.templates)
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; notifierd run --workers {args.workers}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    report = await run(
        workers=args.workers,
        rate=args.rate,
        seconds=args.seconds,
        swap_at=args.swap_at,
        window=args.window,
        swap=args.swap,
        routes=args.routes,
        templates=args.templates,
        same_templates=args.same_templates,
        workdir=args.keep,
        log_level=args.log_level,
    )
    print(
        f"sent {report.sent:,} at {report.rate:,.0f}/s; the swap took "
        f"{report.swap_took:.3f} s; load average after: {os.getloadavg()[0]:.2f}"
    )
    print(
        f"change -> worker 0's new snapshot active: {after(report.loaded_after)}; first request "
        f"routed by the new config sent {after(report.first_new_after)}, last by the old "
        f"{after(report.last_old_after)} ({report.routed_old:,} old, {report.routed_new:,} new)"
    )
    print(f"latency, sent in the {args.window:g} s after the change: {report.during}")
    print(f"latency, sent at any other time:          {report.outside}")
    print(f"lost: {report.lost}, delivered twice: {report.duplicates}")
    if args.timeline:
        for second, latency in report.timeline:
            print(f"  sent {second:+3d} s from the change: {latency}")


if __name__ == "__main__":
    asyncio.run(main())
