"""Benchmark: the real Alertmanager hands N alerts in groups to notifierd (issue 19 §8).

Starts a database of its own on the local Postgres, a Redis key prefix of its own, the fast sink
(bench/sink.py), `notifierd run --http` with a route whose escalation policy sends level 1 to a
webhook channel on the sink, and Alertmanager (`prometheus-alertmanager`, no cluster, a temporary
storage path) whose webhook receiver points at `POST /api/v1/alertmanager` (`group_by: [alertname,
cluster]`). It fires N alerts (default 10,000, in --groups groups) at Alertmanager's
`POST /api/v2/alerts` in batches, and reports:
  (a) how fast notifierd acknowledged them as queued: the `webhook_requests` rows (one per
      alert, committed and pushed before the 2xx), first alert posted -> last row queued, and
      Alertmanager's own count of notifications, failures and mean notification latency;
  (b) first alert posted -> the last level-1 delivery at the sink, and whether every notifierd
      alert's level 1 arrived exactly once;
  (c) peak RSS (VmHWM) of the daemon (every process) and of Alertmanager.
Mode `group` (default receiver: one notifierd alert per Alertmanager group) and `alert`
(`?per_alert=true`: one notifierd alert per Alertmanager alert); `--mode both` runs one then the
other, each with a fresh database, daemon and Alertmanager.
Usage: python bench/alertmanager_intake.py [--alerts 10000] [--groups 200] [--mode both]
                                           [--workers 1] [--batch 500] [--max-alerts 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import ADMIN, REDIS_URL, create_database, start_sink

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
TOKEN = "bench-alertmanager-token"
ROUTES = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
producers:
  alertmanager:
    token: "${AM_TOKEN}"
    queue: true
routes:
  - name: alerts
    matchers: ['source="alertmanager"']
    channels: [sink]
    escalation: oncall
"""
# Level 1 at once; level 2 far beyond the run, so only level 1 reaches the sink.
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: 1h, channels: [sink]}
"""
# How many distinct alert names a run spreads its groups over (the rest is the cluster label).
NAMES = 20


@dataclass
class Report:
    """What one run measured."""

    mode: str
    alerts: int
    groups: int
    notifierd_alerts: int = 0  # alerts opened in notifierd (groups, or one per alert)
    posted_in: float = 0.0  # first to last batch accepted by Alertmanager
    queued: int = 0  # webhook_requests rows queued
    queued_after: float = 0.0  # first alert posted -> last row queued
    queued_window: float = 0.0  # first row received -> last row queued (notifierd's side)
    notifications: int = 0  # webhook notifications Alertmanager sent (its metric)
    failed: int = 0  # ... that failed (not 2xx, or timed out)
    notification_latency: float = 0.0  # mean seconds per notification, Alertmanager's histogram
    largest_payload: int = 0  # bytes, the largest group's payload as Alertmanager sends it
    processed_after: float = 0.0  # first alert posted -> last request's outcome recorded
    opened_after: float = 0.0  # first alert posted -> last notifierd alert opened
    opened_p50: float = 0.0  # ... -> half of them opened
    # Requests of one notifierd alert run one after another (queue order per alert): the time
    # between two consecutive outcomes of one alert, and how many alerts had requests under
    # way at once on average (the sum of each alert's first-to-last outcome span / the window).
    chain_gap_p50: float = 0.0
    alerts_at_once: float = 0.0
    step_late_p50: float = 0.0  # level-1 step fired minus due (due when its alert opened)
    step_late_max: float = 0.0
    level1_after: float = 0.0  # first alert posted -> last level-1 delivery at the sink
    level1_received: int = 0
    level1_distinct: int = 0
    level1_expected: int = 0  # one per notifierd alert
    daemon_rss: float = 0.0  # MiB, every daemon process added up
    alertmanager_rss: float = 0.0  # MiB
    daemon_log: str = ""

    def lines(self) -> list[str]:
        rate = self.queued / self.queued_after if self.queued_after else 0.0
        window = self.queued / self.queued_window if self.queued_window else 0.0
        chains = (
            f"requests of one alert {self.chain_gap_p50 * 1000:.0f} ms apart (p50), "
            f"{self.alerts_at_once:.1f} alerts under way at once on average; "
            if self.notifierd_alerts < self.alerts
            else ""
        )
        return [
            f"mode {self.mode}: {self.alerts:,} alerts in {self.groups:,} groups -> "
            f"{self.notifierd_alerts:,} notifierd alerts; posted to Alertmanager in "
            f"{self.posted_in:.2f}s; largest group payload {self.largest_payload / 1024:.0f} KiB",
            f"(a) queued: {self.queued:,} requests {self.queued_after:.2f}s after the first post = "
            f"{rate:,.0f}/s ({window:,.0f}/s first received -> last queued); Alertmanager sent "
            f"{self.notifications:,} notifications, {self.failed} failed, mean latency "
            f"{self.notification_latency * 1000:.0f} ms",
            f"    every request processed (outcome in Postgres) {self.processed_after:.2f}s after "
            f"the first post; notifierd alerts opened: half {self.opened_p50:.2f}s, all "
            f"{self.opened_after:.2f}s; {chains}level-1 step fired minus due p50 "
            f"{self.step_late_p50:.2f}s max {self.step_late_max:.2f}s",
            f"(b) last level-1 delivery {self.level1_after:.2f}s after the first post; "
            f"{self.level1_received:,} level-1 deliveries received, {self.level1_distinct:,} "
            f"distinct, {self.level1_expected:,} expected",
            f"(c) peak RSS: notifierd {self.daemon_rss:.0f} MiB, Alertmanager "
            f"{self.alertmanager_rss:.0f} MiB",
        ]


# One row per alert: the intake also queues one `update` request per payload of a group that
# still fires (its members, for the threaded update), which is no alert of its own.
NOT_UPDATES = "payload->>'action' IS DISTINCT FROM 'update'"


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (held open together, so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def peak_rss_mib(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def process_tree(pid: int) -> list[int]:
    """``pid`` and its children (the supervisor's workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [pid, *(int(p) for p in fh.read().split())]
    except OSError:
        return [pid]


def alertmanager_config(url: str, max_alerts: int) -> str:
    # group_interval 1s: a group's later members reach notifierd a second after they arrive
    # (Alertmanager's default, 5m, would measure Alertmanager); repeat_interval long, so the
    # run sees no re-sends of unchanged groups.
    return textwrap.dedent(
        f"""\
        route:
          receiver: notifierd
          group_by: [alertname, cluster]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: notifierd
            webhook_configs:
              - url: {url}
                send_resolved: false
                max_alerts: {max_alerts}
                http_config:
                  authorization: {{credentials: {TOKEN}}}
        """
    )


def alert(i: int, groups: int, ends: str) -> dict[str, Any]:
    g = i % groups
    name, cluster = f"BenchAlert{g % NAMES}", f"cluster-{g // NAMES}"
    return {
        "labels": {
            "alertname": name,
            "cluster": cluster,
            "instance": f"host-{i}",
            "severity": "critical",
        },
        "annotations": {
            "summary": f"{name} on host-{i}",
            "description": f"host-{i} in {cluster} is in trouble (benchmark alert {i})",
        },
        "generatorURL": f"http://prometheus.example/graph?g0.expr=up%7Binstance%3D%22host-{i}%22%7D",
        "endsAt": ends,
    }


def largest_payload(alerts: int, groups: int) -> int:
    """Bytes of the largest group's webhook payload, built as Alertmanager builds it."""
    members = [a for i in range(alerts) if i % groups == 0 for a in [alert(i, groups, "")]]
    now = datetime.now(UTC).isoformat()
    payload = {
        "receiver": "notifierd",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                **m,
                "startsAt": now,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "0123456789abcdef",
            }
            for m in members
        ],
        "groupLabels": {"alertname": "BenchAlert0", "cluster": "cluster-0"},
        "commonLabels": {"alertname": "BenchAlert0", "cluster": "cluster-0"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": '{}:{alertname="BenchAlert0", cluster="cluster-0"}',
        "truncatedAlerts": 0,
    }
    return len(json.dumps(payload))


async def until(check: Any, timeout: float, what: str, *, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(poll)


async def ready(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def alertmanager_metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    """Alertmanager's webhook counters: sent, failed, latency sum and count."""
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    out = {"sent": 0.0, "failed": 0.0, "latency_sum": 0.0, "latency_count": 0.0}
    names = {
        "alertmanager_notifications_total": "sent",
        "alertmanager_notifications_failed_total": "failed",
        "alertmanager_notification_latency_seconds_sum": "latency_sum",
        "alertmanager_notification_latency_seconds_count": "latency_count",
    }
    for line in text.splitlines():
        name = line.split("{", 1)[0]
        if name in names and 'integration="webhook"' in line:
            out[names[name]] += float(line.rsplit(" ", 1)[1])
    return out


async def run(
    *,
    mode: str,
    alerts: int,
    groups: int,
    workers: int = 1,
    batch: int = 500,
    max_alerts: int = 0,
    timeout: float = 600.0,
    workdir: Path | None = None,
    log: Any = print,
) -> Report:
    """One run: its own database, Redis prefix, sink, daemon and Alertmanager; all stopped after."""
    if BINARY is None:
        raise SystemExit("Alertmanager is not installed (scripts/ensure-alertmanager)")
    work = workdir or Path(tempfile.mkdtemp(prefix="notifierd-ambench-"))
    (work / "config" / "policies").mkdir(parents=True, exist_ok=True)
    (work / "config" / "routes.yaml").write_text(ROUTES)
    (work / "config" / "policies" / "oncall.yaml").write_text(POLICY)
    groups = min(groups, alerts)
    report = Report(mode=mode, alerts=alerts, groups=groups)
    report.notifierd_alerts = groups if mode == "group" else alerts
    report.level1_expected = report.notifierd_alerts
    report.largest_payload = largest_payload(alerts, groups)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN)
    db, pg_url = await create_database(admin)
    sink_out = work / "sink.jsonl"
    sink, sink_port = start_sink(sink_out)
    http_port, am_port = free_ports(2)
    daemon_url, am_url = f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{am_port}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "POSTGRES_URL": pg_url,
        "SINK_URL": f"http://127.0.0.1:{sink_port}/hook",
        "AM_TOKEN": TOKEN,
    }
    receiver = f"{daemon_url}/api/v1/alertmanager" + ("?per_alert=true" if mode == "alert" else "")
    (work / "alertmanager.yml").write_text(alertmanager_config(receiver, max_alerts))
    daemon_log = (work / "daemon.log").open("wb")
    am_log = (work / "alertmanager.log").open("wb")
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifierd",
            "run",
            "--config",
            str(work / "config"),
            "--queue",
            f"{prefix}:requests",
            "--key-prefix",
            prefix,
            "--no-watch",
            "--log-level",
            "WARNING",
            "--http",
            f"127.0.0.1:{http_port}",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=daemon_log,
    )
    am: subprocess.Popen[bytes] | None = None
    conn: asyncpg.Connection | None = None
    try:
        async with aiohttp.ClientSession() as http:
            await until(lambda: ready(http, f"{daemon_url}/readyz"), 60, "the daemon's /readyz")
            am = subprocess.Popen(
                [
                    BINARY,
                    f"--config.file={work / 'alertmanager.yml'}",
                    f"--storage.path={work / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                stdout=am_log,
                stderr=am_log,
            )
            started = am

            async def am_ready() -> bool:
                if started.poll() is not None:
                    raise RuntimeError(f"Alertmanager exited; see {work / 'alertmanager.log'}")
                return await ready(http, f"{am_url}/-/ready")

            await until(am_ready, 60, "Alertmanager ready")
            conn = await asyncpg.connect(pg_url)
            ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            first_post = time.time()
            for start in range(0, alerts, batch):
                body = [alert(i, groups, ends) for i in range(start, min(alerts, start + batch))]
                async with http.post(f"{am_url}/api/v2/alerts", json=body) as response:
                    if response.status != 200:
                        raise RuntimeError(f"Alertmanager refused alerts: {await response.text()}")
            report.posted_in = time.time() - first_post
            log(f"[{mode}] {alerts:,} alerts posted to Alertmanager in {report.posted_in:.2f}s")
            db_conn = conn

            async def all_queued() -> bool:
                if daemon.poll() is not None:
                    raise RuntimeError("the daemon died")
                queued = await db_conn.fetchval(
                    "SELECT count(*) FROM webhook_requests WHERE queued_at IS NOT NULL"
                    f" AND {NOT_UPDATES}"
                )
                return int(queued) >= alerts

            await until(all_queued, timeout, "every alert queued by notifierd", poll=0.1)
            log(f"[{mode}] every alert queued after {time.time() - first_post:.2f}s")

            async def level1_delivered() -> bool:
                if daemon.poll() is not None:
                    raise RuntimeError("the daemon died")
                done = await db_conn.fetchval(
                    "SELECT count(*) FROM deliveries WHERE request_id LIKE '%:r1l1' "
                    "AND status = 'delivered'"
                )
                return int(done) >= report.level1_expected

            await until(level1_delivered, timeout, "every level-1 delivery", poll=0.2)
            log(f"[{mode}] every level-1 delivery recorded after {time.time() - first_post:.2f}s")
            await asyncio.sleep(1)  # anything sent twice arrives too
            row = await conn.fetchrow(
                "SELECT count(*) AS n, extract(epoch FROM min(received_at)) AS first, "
                f"extract(epoch FROM max(queued_at)) AS last FROM webhook_requests WHERE {NOT_UPDATES}"
            )
            report.queued = int(row["n"])
            report.queued_after = float(row["last"]) - first_post
            report.queued_window = float(row["last"]) - float(row["first"])
            row = await conn.fetchrow(
                "SELECT extract(epoch FROM max(updated_at)) AS last FROM requests "
                "WHERE id IN (SELECT id FROM webhook_requests)"
            )
            report.processed_after = float(row["last"]) - first_post
            row = await conn.fetchrow(
                """
                WITH r AS (
                  SELECT payload->>'dedup_key' AS k, updated_at AS t FROM requests
                   WHERE id IN (SELECT id FROM webhook_requests)),
                gaps AS (SELECT t - lag(t) OVER (PARTITION BY k ORDER BY t) AS gap FROM r),
                spans AS (SELECT max(t) - min(t) AS span FROM r GROUP BY k)
                SELECT extract(epoch FROM (SELECT percentile_cont(0.5) WITHIN GROUP
                                           (ORDER BY gap) FROM gaps WHERE gap IS NOT NULL)) AS gap,
                       extract(epoch FROM (SELECT sum(span) FROM spans)) AS busy,
                       extract(epoch FROM (SELECT max(t) - min(t) FROM r)) AS window
                """
            )
            report.chain_gap_p50 = float(row["gap"] or 0.0)
            if row["window"]:
                report.alerts_at_once = float(row["busy"]) / float(row["window"])
            row = await conn.fetchrow(
                "SELECT extract(epoch FROM max(started_at)) AS last, percentile_cont(0.5) "
                "WITHIN GROUP (ORDER BY extract(epoch FROM started_at)) AS half FROM alerts"
            )
            report.opened_after = float(row["last"]) - first_post
            report.opened_p50 = float(row["half"]) - first_post
            row = await conn.fetchrow(
                "SELECT extract(epoch FROM percentile_cont(0.5) WITHIN GROUP "
                "(ORDER BY fired_at - due_at)) AS p50, extract(epoch FROM max(fired_at - due_at)) "
                "AS max FROM escalation_steps WHERE level = 1"
            )
            report.step_late_p50, report.step_late_max = float(row["p50"]), float(row["max"])
            metrics = await alertmanager_metrics(http, am_url)
            report.notifications = int(metrics["sent"])
            report.failed = int(metrics["failed"])
            if metrics["latency_count"]:
                report.notification_latency = metrics["latency_sum"] / metrics["latency_count"]
            report.daemon_rss = peak_rss_mib(process_tree(daemon.pid))
            report.alertmanager_rss = peak_rss_mib([am.pid])
    finally:
        if conn is not None:
            await conn.close()
        for process in (am, daemon):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
        sink.terminate()
        sink.wait(120)
        daemon_log.close()
        am_log.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
    received = [json.loads(line) for line in sink_out.read_text().splitlines()]
    level1 = [r for r in received if str(r["id"]).endswith(":r1l1")]
    report.level1_received = len(level1)
    report.level1_distinct = len({r["id"] for r in level1})
    report.level1_after = max(r["at"] for r in level1) - first_post if level1 else float("nan")
    report.daemon_log = (work / "daemon.log").read_text()[-3000:]
    return report


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--mode", choices=["group", "alert", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="notifierd run --workers")
    parser.add_argument("--batch", type=int, default=500, help="alerts per POST /api/v2/alerts")
    parser.add_argument(
        "--max-alerts", type=int, default=0, help="the webhook receiver's max_alerts (0: all)"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    modes = ["group", "alert"] if args.mode == "both" else [args.mode]
    failed = False
    for mode in modes:
        report = await run(
            mode=mode,
            alerts=args.alerts,
            groups=args.groups,
            workers=args.workers,
            batch=args.batch,
            max_alerts=args.max_alerts,
        )
        for line in report.lines():
            print(line)
        failed |= report.level1_distinct != report.level1_expected
        failed |= report.level1_received != report.level1_distinct
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
