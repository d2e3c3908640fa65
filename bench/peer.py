"""Benchmark: notifierd beside Alertmanager, in one run, on the same fast sink (issue 22 §1).

Uses Debian's `prometheus-alertmanager` when installed (scripts/ensure-alertmanager; this script
installs nothing) and the local Redis and Postgres. It runs rounds, alternating the two sides
(Alertmanager, notifierd with its default settings, then notifierd with --workers 1 and with
--workers 2), each phase on a fresh bench/sink.py (the sink bench/throughput.py uses) and a fresh
process. Both sides deliver every alert or request as its own webhook POST to the sink.

(a) drain of a burst of N (default 20,000), first to last delivery at the sink:
    - notifierd: the N requests are in its Redis queue before `notifierd run` starts (no
      --workers flag: the default, one worker per usable core; and rows with --workers 1 and 2),
      each delivery recorded in Postgres before its request leaves Redis;
    - Alertmanager (`group_by: ['...']`, `group_wait: 0s`, `group_interval`/`repeat_interval`
      hours: each alert its own group and notification, sent as it arrives): the N alerts are
      posted to /api/v2/alerts as fast as it takes them (batches of 1,000, 4 in flight) once it
      is ready. It cannot be pre-filled (an alert is dispatched as it arrives, and nothing is
      kept across a restart), so its posting may overlap the start of its drain: the time the
      posting took and the share of deliveries made after the last batch was accepted are
      printed, and show when the figure is bound by intake rather than by delivery.
(b) enqueue-to-delivery latency at a steady rate (default 500/s for 20 s), p50/p99/max: each
    request (an LPUSH to notifierd's queue) or alert (a POST of one alert to Alertmanager) is
    stamped with the time just before it is sent; latency is the sink's receipt time minus that.
    Run right after the burst, in the same process, on both sides.
(c) peak RSS (VmHWM) of every process of each side at the end of its phase: Alertmanager's one
    process; notifierd's supervisor and workers added up (or its one process).

It prints each figure for both sides and the ratio notifierd / Alertmanager, paired per round
(for deliveries/s higher is better for notifierd; for latency and memory, lower), and the load
average at the start and end: the machine is shared, so compare ratios, not absolute figures.

Usage: python bench/peer.py [--rounds 2] [--burst 20000] [--rate 500] [--seconds 20] [--quick]
                            [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))
from cputime import CpuMeter, cpu_seconds, machine_busy_seconds, per_delivery  # noqa: E402
from throughput import (  # noqa: E402 - bench/ is a folder of scripts, not a package
    DaemonRun,
    load_average,
    paced,
    peak_rss_mib,
    percentile,
    run_daemon,
    start_sink,
    until_received,
)

from tests.fakes.alertmanager import Alertmanager, find_binary  # noqa: E402

BATCH = 1000  # alerts per POST /api/v2/alerts in the burst
IN_FLIGHT = 4  # burst POSTs under way at once
INSTALL = "apt-get install prometheus-alertmanager (or scripts/ensure-alertmanager)"


def alertmanager_config(sink_url: str) -> str:
    # group_by ['...']: every label set is a group of its own, so each alert is one
    # notification, as each notifierd request is one delivery. group_wait 0s: sent as it
    # arrives. Hours for the rest: no re-sends within the run.
    return textwrap.dedent(
        f"""\
        route:
          receiver: sink
          group_by: ['...']
          group_wait: 0s
          group_interval: 1h
          repeat_interval: 24h
        receivers:
          - name: sink
            webhook_configs:
              - url: {sink_url}
                send_resolved: false
        """
    )


@dataclass
class Phase:
    """One side's figures in one round."""

    side: str  # "Alertmanager", "notifierd", "notifierd --workers 1", ...
    burst: int
    rate: float  # burst deliveries/s, first to last delivery at the sink
    delivered: int  # distinct burst alerts/requests the sink received
    duplicates: int
    p50: float | None = None  # ms, steady rate; None: no steady phase
    p99: float | None = None
    max: float | None = None
    steady_rate: float | None = None  # achieved
    rss: float = 0.0  # MiB, every process of the side
    # µs of the machine's CPU per burst delivery, all processes but the benchmark's producer
    cpu: float | None = None
    processes: int = 1
    note: str = ""

    def line(self) -> str:
        out = (
            f"{self.side}: burst {self.burst:,}, {self.rate:,.0f} deliveries/s first to last "
            f"delivery ({self.delivered:,} delivered, {self.duplicates} duplicates)"
        )
        if self.p50 is not None:
            out += (
                f"; steady {self.steady_rate:,.0f}/s: p50 {self.p50:.1f} ms, p99 "
                f"{self.p99:.1f} ms, max {self.max:.1f} ms"
            )
        out += f"; peak RSS {self.rss:.0f} MiB"
        return out + (f" ({self.note})" if self.note else "")


def latency_figures(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(latencies),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


async def post_burst(http: aiohttp.ClientSession, url: str, ids: list[str]) -> None:
    ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    batches = asyncio.Queue[list[str]]()
    for start in range(0, len(ids), BATCH):
        batches.put_nowait(ids[start : start + BATCH])

    async def poster() -> None:
        while not batches.empty():
            batch = batches.get_nowait()
            body = [{"labels": {"alertname": "PeerBench", "id": i}, "endsAt": ends} for i in batch]
            async with http.post(f"{url}/api/v2/alerts", json=body) as response:
                if response.status != 200:
                    raise RuntimeError(f"Alertmanager refused alerts: {await response.text()}")

    await asyncio.gather(*(poster() for _ in range(IN_FLIGHT)))


async def post_steady(http: aiohttp.ClientSession, url: str, rate: int, ids: list[str]) -> float:
    """One alert per POST at ``rate``/s, each stamped with its send time; the rate achieved."""
    ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    async def post(n: int) -> None:
        body = [
            {
                "labels": {"alertname": "PeerSteady", "id": ids[n]},
                "annotations": {"sent_at": repr(time.time())},
                "endsAt": ends,
            }
        ]
        async with http.post(f"{url}/api/v2/alerts", json=body) as response:
            if response.status != 200:
                raise RuntimeError(f"Alertmanager refused an alert: {await response.text()}")

    return await paced(rate, len(ids), post)


async def alertmanager_phase(burst: int, rate: int, seconds: float, tag: str) -> Phase:
    """Alertmanager on a fresh sink: the burst, then the steady rate, then its peak RSS."""
    work = Path(tempfile.mkdtemp(prefix="notifierd-peer-am-"))
    sink_out = work / "sink.jsonl"
    sink, port = start_sink(sink_out)
    am = Alertmanager(work, alertmanager_config(f"http://127.0.0.1:{port}/alertmanager"))
    burst_ids = [f"{tag}burst-{i}" for i in range(burst)]
    steady_ids = [f"{tag}steady-{i}" for i in range(int(rate * seconds))]
    try:
        am.start()
        assert am.process is not None
        async with aiohttp.ClientSession() as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"{am.url}/-/ready") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if am.process.poll() is not None or time.monotonic() > deadline:
                    log = (work / "alertmanager.log").read_text()[-2000:]
                    raise RuntimeError(f"Alertmanager did not start: {log}")
                await asyncio.sleep(0.1)
            am_pid = am.process.pid
            meter = CpuMeter(
                {
                    "Alertmanager": lambda: cpu_seconds(am_pid),
                    "sink": lambda: cpu_seconds(sink.pid),
                    "producer": time.process_time,  # this process posting the burst
                    "the whole machine": machine_busy_seconds,
                }
            )
            posted_from = time.time()
            await post_burst(http, am.url, burst_ids)
            posted_by = time.time()
            await until_received(port, burst, am.process, "Alertmanager")
            cpu = per_delivery(meter.spent(), burst)
            achieved = None
            if steady_ids:
                achieved = await post_steady(http, am.url, rate, steady_ids)
                await until_received(port, burst + len(steady_ids), am.process, "Alertmanager")
            await asyncio.sleep(0.5)  # anything sent twice arrives too
        rss = peak_rss_mib(am.process.pid)
    finally:
        am.stop()
        sink.terminate()
        sink.wait(60)
    records = [json.loads(line) for line in sink_out.read_text().splitlines()]
    arrived = [r for r in records if str(r["id"]).startswith(f"{tag}burst-")]
    first, last = min(r["at"] for r in arrived), max(r["at"] for r in arrived)
    after_posting = sum(1 for r in arrived if r["at"] > posted_by)
    phase = Phase(
        side="Alertmanager",
        burst=burst,
        rate=burst / (last - first),
        delivered=len({r["id"] for r in arrived}),
        duplicates=len(arrived) - len({r["id"] for r in arrived}),
        rss=rss,
        cpu=machine_cpu(cpu),
        note=f"burst posted in {posted_by - posted_from:.2f}s; "
        f"{after_posting / len(arrived):.0%} of it delivered after the last batch was accepted; "
        + cpu_note(cpu),
    )
    steady = [
        (r["at"] - r["sent_at"]) * 1000 for r in records if str(r["id"]).startswith(f"{tag}steady-")
    ]
    if steady:
        figures = latency_figures(steady)
        phase.p50, phase.p99, phase.max = figures["p50"], figures["p99"], figures["max"]
        phase.steady_rate = achieved
    return phase


MACHINE = "the whole machine"  # the part of CpuShare's and CpuMeter's figures that is all


def machine_cpu(cpu: dict[str, float]) -> float:
    """µs of the machine per burst delivery, less what the benchmark's producer spent posting
    Alertmanager's alerts (notifierd's burst was queued before its daemon started)."""
    return cpu[MACHINE] - cpu.get("producer", 0.0)


def cpu_note(cpu: dict[str, float]) -> str:
    """The machine's CPU per burst delivery and its parts, from its first post (Alertmanager)
    or first delivery (notifierd) to its last."""
    parts = ", ".join(
        f"{name} {us:.0f}" for name, us in cpu.items() if name not in (MACHINE, "producer")
    )
    excepted = f"; the producer's {cpu['producer']:.0f} µs excepted" if "producer" in cpu else ""
    return f"CPU per burst delivery: the machine {machine_cpu(cpu):.0f} µs ({parts}{excepted})"


def notifierd_phase(side: str, run: DaemonRun) -> Phase:
    phase = Phase(
        side=side,
        burst=run.requests,
        rate=run.rate,
        delivered=run.delivered,
        duplicates=run.duplicates,
        rss=run.total_rss,
        processes=len(run.worker_rss) + (run.supervisor_rss is not None),
        cpu=machine_cpu(run.cpu_per_request) if run.cpu_per_request else None,
        note=(
            "one process"
            if run.supervisor_rss is None
            else f"supervisor {run.supervisor_rss:.0f} MiB + {len(run.worker_rss)} workers "
            + "/".join(f"{r:.0f}" for r in run.worker_rss)
            + " MiB"
        )
        + (f"; {cpu_note(run.cpu_per_request)}" if run.cpu_per_request else ""),
    )
    if run.latencies_ms:
        figures = latency_figures(run.latencies_ms)
        phase.p50, phase.p99, phase.max = figures["p50"], figures["p99"], figures["max"]
        phase.steady_rate = run.steady_rate
    return phase


@dataclass
class Summary:
    rounds: list[dict[str, Phase]] = field(default_factory=list)

    def values(self, side: str, figure: str) -> list[float]:
        return [
            getattr(r[side], figure)
            for r in self.rounds
            if side in r and getattr(r[side], figure) is not None
        ]

    def ratios(self, side: str, figure: str) -> list[float]:
        """notifierd / Alertmanager, paired per round."""
        return [
            getattr(r[side], figure) / getattr(r["Alertmanager"], figure)
            for r in self.rounds
            if side in r
            and getattr(r[side], figure) is not None
            and getattr(r["Alertmanager"], figure)
        ]


FIGURES = [  # (attribute, label, unit format, which way is better for notifierd)
    ("rate", "drain, deliveries/s", "{:,.0f}", "higher is better"),
    ("p50", "latency at the steady rate, p50 ms", "{:.1f}", "lower is better"),
    ("p99", "latency at the steady rate, p99 ms", "{:.1f}", "lower is better"),
    ("max", "latency at the steady rate, max ms", "{:.1f}", "lower is better"),
    ("rss", "peak RSS, MiB (all processes)", "{:,.0f}", "lower is better"),
    (
        "cpu",
        "machine CPU per burst delivery, µs (but the producer's)",
        "{:,.0f}",
        "lower is better",
    ),
]


def spread(values: list[float], fmt: str) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return (
        fmt.format(low)
        if fmt.format(low) == fmt.format(high)
        else f"{fmt.format(low)}–{fmt.format(high)}"
    )


def summary_lines(summary: Summary, sides: list[str]) -> list[str]:
    """A table: each figure's range over the rounds for each side, and the paired ratios."""
    out = []
    for attribute, label, fmt, better in FIGURES:
        out.append(f"{label} ({better} for notifierd; ratio = notifierd / Alertmanager)")
        out.append(
            f"    {'Alertmanager':<28} {spread(summary.values('Alertmanager', attribute), fmt)}"
        )
        for side in sides:
            values = summary.values(side, attribute)
            if not values:
                continue
            ratios = summary.ratios(side, attribute)
            ratio = (
                f"ratio {statistics.median(ratios):.2f}× (rounds {spread(ratios, '{:.2f}')})"
                if ratios
                else ""
            )
            out.append(f"    {side:<28} {spread(values, fmt):<14} {ratio}")
    return out


def commit() -> str:
    try:
        found = subprocess.run(
            ["git", "-C", str(BENCH.parent), "log", "-1", "--format=%h %cs"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(BENCH.parent), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return found.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def alertmanager_version(binary: str) -> str:
    found = subprocess.run([binary, "--version"], capture_output=True, text=True)
    words = (found.stdout or found.stderr).split()
    return words[2] if len(words) > 2 and words[1] == "version" else "unknown"


async def run(
    *,
    rounds: int,
    burst: int,
    rate: int,
    seconds: float,
    extra_workers: list[int],
    log: Callable[[str], None] = print,
) -> tuple[Summary, list[str]]:
    """Every round: Alertmanager, notifierd (default settings), notifierd --workers N for each
    of ``extra_workers`` (burst only)."""
    summary = Summary()
    sides = ["notifierd"] + [f"notifierd --workers {n}" for n in extra_workers]
    for number in range(1, rounds + 1):
        tag = f"r{number}-{uuid.uuid4().hex[:6]}-"
        log(f"round {number} ({load_average()})")
        phases: dict[str, Phase] = {}
        phases["Alertmanager"] = await alertmanager_phase(burst, rate, seconds, tag + "am-")
        log("  " + phases["Alertmanager"].line())
        # Its default settings, the log level included (INFO, written to a file), as a user
        # gets them: Alertmanager too runs at its default level.
        default = await run_daemon(
            requests=burst, rate=rate, seconds=seconds, id_prefix=tag + "nd-", log_level="INFO"
        )
        side = f"notifierd (default: {default.workers} worker{'s' if default.workers > 1 else ''})"
        phases["notifierd"] = notifierd_phase(side, default)
        log("  " + phases["notifierd"].line())
        for n in extra_workers:
            measured = await run_daemon(
                requests=burst, seconds=0, workers=n, id_prefix=f"{tag}w{n}-", log_level="INFO"
            )
            phases[f"notifierd --workers {n}"] = notifierd_phase(
                f"notifierd --workers {n}", measured
            )
            log("  " + phases[f"notifierd --workers {n}"].line())
        summary.rounds.append(phases)
    return summary, sides


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each side once per round")
    parser.add_argument("--burst", type=int, default=20_000, help="alerts/requests in the burst")
    parser.add_argument("--rate", type=int, default=500, help="the steady rate, per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the steady rate runs")
    parser.add_argument(
        "--quick", action="store_true", help="one round, a burst of 2,000, 5 s at the steady rate"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[1, 2],
        help="notifierd --workers N rows besides the default (burst only; default: 1 2)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.burst, args.seconds = 1, min(args.burst, 2000), min(args.seconds, 5.0)
    for name in ("rounds", "burst", "rate"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.seconds < 0 or any(n < 1 for n in args.workers):
        parser.error("--seconds must be 0 or more and --workers at least 1")
    binary = find_binary()
    if binary is None:
        print(f"error: Alertmanager is not installed: {INSTALL}", file=sys.stderr)
        sys.exit(2)
    if "NOTIFIERD_WORKERS" in os.environ:
        print("note: NOTIFIERD_WORKERS is set: it is the default the 'notifierd' rows run with")

    started = time.time()
    print(
        f"peer benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: notifierd {commit()} beside "
        f"Alertmanager {alertmanager_version(binary)} ({binary}); {platform.machine()}, "
        f"{os.cpu_count()} cores, {len(os.sched_getaffinity(0))} usable, Python "
        f"{platform.python_version()}"
    )
    print(
        f"{args.rounds} round(s): burst {args.burst:,}; steady {args.rate}/s for "
        f"{args.seconds:g} s; at start: {load_average()}"
    )
    summary, sides = await run(
        rounds=args.rounds,
        burst=args.burst,
        rate=args.rate,
        seconds=args.seconds,
        extra_workers=args.workers,
    )
    print()
    print("summary: each figure's range over the rounds; ratios paired per round, median first")
    for line in summary_lines(summary, sides):
        print(line)
    print(f"at end: {load_average()}; {time.time() - started:.0f} s in all")
    if args.json:
        Path(args.json).write_text(json.dumps(to_json(summary, sides), indent=2))


def to_json(summary: Summary, sides: list[str]) -> dict[str, Any]:
    return {
        "rounds": [{key: asdict(phase) for key, phase in r.items()} for r in summary.rounds],
        "ratios": {
            side: {attribute: summary.ratios(side, attribute) for attribute, *_ in FIGURES}
            for side in sides
        },
    }


if __name__ == "__main__":
    asyncio.run(main())
