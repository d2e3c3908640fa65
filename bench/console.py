"""Benchmark: the console's API over a month of history (issue 21 §5: every page and API call
answers in ≤ 100 ms at p95 with 1,000,000 deliveries and 10,000 alerts).

Creates a database of its own on the local Postgres, applies the migrations, and loads it inside
Postgres (bench/console_load.sql: generate_series, a few minutes for the full size): 1,000,000
deliveries of 400,000 requests over 30 days (nine channels of the shipped config's types from
28 % of deliveries down to a removed channel's 0.02 %; 88 % delivered, 2 % dead, retries,
suppressed, deduplicated, digested, none held; people's addresses skewed towards a few; titles of
words from frequent to rare; each delivery's attempts as the daemon records them) and 10,000
alerts (the newest 3.5 % open, escalation steps, timelines; one alert with 2,000 occurrences
and ten rounds of its policy). Then it starts `notifierd run --dry-run --http` with the shipped
config/ against it (with NOTIFIERD_API_TOKEN set: every call sends it as a bearer token, as
a deployment with credentials would be called) and times every call of the table CALLS — the
API's and the console's pages — and each `--url`, --runs times each after a warm-up, round by
round, printing p50 / p95 / max per call and the CPU the daemon and its Postgres backends spent
on it; the EXPLAIN (ANALYZE, BUFFERS) plans of the queries behind each call go to --plans.

A console page is one more row of CALLS (or `--url /ui/...`): its path, and the store queries
it runs if its plans should be shown.

Usage: python bench/console.py [--deliveries 1000000] [--alerts 10000] [--runs 50]
                               [--keep-db] [--plans FILE] [--url PATH ...] [--quick]
--keep-db: load once into database notifierd_bench_console_<deliveries>_<alerts>, keep it,
and reuse it on the next run (migrations added since are applied to it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from redis.asyncio import Redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from notifierd.status import AlertStatus, DeliveryStatus  # noqa: E402
from notifierd.store.db import search_arguments  # noqa: E402
from notifierd.store.migrate import migrate  # noqa: E402
from notifierd.store.queries import parse_named, q  # noqa: E402
from notifierd.store.rows import DeliveryCursor, DeliverySearch, EventCursor  # noqa: E402

ADMIN = os.environ.get("NOTIFIERD_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
LOAD_SQL = Path(__file__).resolve().parent / "console_load.sql"
TARGET_MS = 100.0
PAGE = 50  # the API's default page; a search asks Postgres for one more row
TIMELINE_SHOWN = 200  # the timeline events an alert's page shows (console/alert_pages.py)
DEAD_LETTERS_SHOWN = 200  # the dead letters the console's page shows (console/dead_letters.py)
# The daemon's break-glass token, sent with every call: the pages and the API as a deployment
# with credentials serves them.
TOKEN = secrets.token_urlsafe(24)

# (name, type, how it names recipients, weight of being a request's first channel): the shipped
# config's channels, most used first, then one since removed from it (history keeps it).
CHANNELS = [
    ("ops-slack", "slack", "slack", 0.28),
    ("audit", "webhook", "none", 0.20),
    ("ops-email", "email", "person", 0.14),
    ("eng-slack", "slack", "slack", 0.12),
    ("pager", "pagerduty", "none", 0.09),
    ("eng-teams", "teams", "none", 0.08),
    ("oncall-sms", "sms", "phone", 0.05),
    ("stakeholder-email", "email", "person", 0.0395),
    ("legacy-exec-email", "email", "exec", 0.0005),
]
# Title words, most frequent first ("High CPU" is in about a quarter of titles); "Kernel panic"
# is in one title of 20,000.
SYMPTOMS = [
    "High CPU",
    "Disk almost full",
    "Error rate above 5%",
    "Latency above SLO",
    "Pod crash looping",
    "Memory pressure",
    "Certificate expires in 7 days",
    "Replication lag",
    "Backup failed",
    "Queue backlog growing",
    "Deploy finished",
    "Node not ready",
    "5xx spike",
    "TLS handshake failures",
    "Job failed",
    "Quota almost exhausted",
    "DNS resolution errors",
    "Connection pool exhausted",
    "Cache hit ratio low",
]
SERVICES = [
    "checkout", "payments", "search", "auth", "inventory", "billing", "gateway", "postgres",
    "redis", "kafka", "frontend", "recommendations", "shipping", "notifications", "ledger",
    "reporting", "identity", "catalog", "pricing", "fraud", "media", "uploads", "scheduler",
    "analytics", "exports", "webhooks", "mailer", "cdn", "vault", "ingest",
]  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """A store query a call runs, with its arguments, to EXPLAIN."""

    query: str
    args: tuple[Any, ...] = ()


@dataclass
class Call:
    """One measured call: a label, the request, the queries behind it."""

    label: str
    path: str
    method: str = "GET"
    body: Any = None
    status: int = 200  # what the call must answer (a refusal is measured too)
    plans: list[Plan] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    # CPU the daemon and the Postgres backends serving it spent, summed over the timed calls:
    # unlike a time on a shared machine, it does not grow with the neighbours' load.
    daemon_cpu_ms: float = 0.0
    postgres_cpu_ms: float = 0.0
    found: str = ""  # what the last answer held, e.g. "50 rows"


@dataclass(frozen=True)
class Samples:
    """Values of the loaded data the calls ask for."""

    anchor: datetime  # the newest moment of the month
    request_id: str  # a request with a dead delivery and its attempts
    long_alert: str  # the alert with the long timeline
    alert_key: str  # a resolved alert's dedup key (shared with earlier alerts)
    common_recipient: str
    rare_recipient: str
    deep: DeliveryCursor  # half-way down the newest-first order
    deep_dead: DeliveryCursor  # half-way down the dead deliveries
    older_timeline: EventCursor  # the long alert's oldest event on its page's first page


def search(query: dict[str, str], **filters: Any) -> tuple[str, list[Plan]]:
    """The API path of a delivery search and the query it runs."""
    after = filters.pop("after", None)
    if after is not None:
        query = {**query, "cursor": after.token()}
    found = DeliverySearch(after=after, limit=PAGE + 1, **filters)
    path = "/api/v1/deliveries" + (f"?{urlencode(query)}" if query else "")
    return path, [Plan("search_deliveries", search_arguments(found))]


def calls(s: Samples) -> list[Call]:
    """The table of measured calls: every console view's API call, each filter alone and
    combined, shallow and deep pages, common and rare values."""
    week_ago, day_ago = s.anchor - timedelta(days=7), s.anchor - timedelta(days=1)
    iso = {"week": week_ago.isoformat(), "day": day_ago.isoformat(), "end": s.anchor.isoformat()}
    dead = DeliveryStatus.DEAD
    out: list[Call] = []

    def deliveries(label: str, query: dict[str, str], **filters: Any) -> None:
        path, plans = search(query, **filters)
        out.append(Call(label, path, plans=plans))

    deliveries("deliveries: first page", {})
    deliveries("deliveries: deep page (cursor at 50 %)", {}, after=s.deep)
    deliveries("deliveries: request id", {"request_id": s.request_id}, request_id=s.request_id)
    deliveries("deliveries: title, common word (cpu)", {"title": "cpu"}, title="cpu")
    deliveries("deliveries: title, medium (kafka-7)", {"title": "kafka-7"}, title="kafka-7")
    deliveries(
        "deliveries: title, rare (kernel panic)", {"title": "kernel panic"}, title="kernel panic"
    )
    deliveries("deliveries: title, absent word", {"title": "zeppelin"}, title="zeppelin")
    deliveries("deliveries: title, three letters, absent (zqx)", {"title": "zqx"}, title="zqx")
    # Shorter than a trigram: no index serves it (2.8 s at p95 for one in no title), so the API
    # refuses it at once.
    out.append(
        Call("deliveries: title, two letters (refused)", "/api/v1/deliveries?title=zq", status=400)
    )
    deliveries(
        "deliveries: channel name (ops-email)", {"channel": "ops-email"}, channel="ops-email"
    )
    deliveries(
        "deliveries: channel name, rare (0.02 %)",
        {"channel": "legacy-exec-email"},
        channel="legacy-exec-email",
    )
    deliveries("deliveries: channel type (sms)", {"channel": "sms"}, channel="sms")
    deliveries(
        "deliveries: recipient, common",
        {"recipient": s.common_recipient},
        recipient=s.common_recipient,
    )
    deliveries(
        "deliveries: recipient, rare", {"recipient": s.rare_recipient}, recipient=s.rare_recipient
    )
    deliveries("deliveries: status dead", {"status": "dead"}, status=dead)
    deliveries(
        "deliveries: status dead, deep page", {"status": "dead"}, status=dead, after=s.deep_dead
    )
    deliveries(
        "deliveries: status retrying", {"status": "retrying"}, status=DeliveryStatus.RETRYING
    )
    deliveries("deliveries: status held (none)", {"status": "held"}, status=DeliveryStatus.HELD)
    deliveries("deliveries: last day", {"since": iso["day"]}, since=day_ago)
    deliveries(
        "deliveries: one day, a week ago",
        {"since": iso["week"], "until": (week_ago + timedelta(days=1)).isoformat()},
        since=week_ago,
        until=week_ago + timedelta(days=1),
    )
    deliveries(
        "deliveries: channel + status dead",
        {"channel": "eng-slack", "status": "dead"},
        channel="eng-slack",
        status=dead,
    )
    deliveries(
        "deliveries: type + status + last week",
        {"channel": "email", "status": "dead", "since": iso["week"]},
        channel="email",
        status=dead,
        since=week_ago,
    )
    deliveries(
        "deliveries: recipient + status dead",
        {"recipient": s.common_recipient, "status": "dead"},
        recipient=s.common_recipient,
        status=dead,
    )
    deliveries(
        "deliveries: title + channel + status",
        {"title": "disk", "channel": "ops-slack", "status": "dead"},
        title="disk",
        channel="ops-slack",
        status=dead,
    )
    deliveries(
        "deliveries: rare channel + status retrying",
        {"channel": "legacy-exec-email", "status": "retrying"},
        channel="legacy-exec-email",
        status=DeliveryStatus.RETRYING,
    )
    out += [
        Call(
            "request: deliveries and history",
            f"/api/v1/requests/{s.request_id}",
            plans=[
                Plan("request_by_id", (s.request_id,)),
                Plan("deliveries_of_request", (s.request_id,)),
                Plan("events_of_request", (s.request_id,)),
            ],
        ),
        Call("alerts: newest", "/api/v1/alerts", plans=[Plan("list_alerts", (None, PAGE))]),
        Call(
            "alerts: triggered",
            "/api/v1/alerts?state=triggered",
            plans=[Plan("list_alerts", (AlertStatus.TRIGGERED, PAGE))],
        ),
        Call(
            "alerts: acknowledged, 500",
            "/api/v1/alerts?state=acknowledged&limit=500",
            plans=[Plan("list_alerts", (AlertStatus.ACKNOWLEDGED, 500))],
        ),
        Call(
            "alerts: resolved",
            "/api/v1/alerts?state=resolved",
            plans=[Plan("list_alerts", (AlertStatus.RESOLVED, PAGE))],
        ),
        Call("alerts: open count (gauges)", "/metrics", plans=[Plan("alert_gauges", (None,))]),
        Call(
            "alert: long timeline (2,000 events), default page",
            f"/api/v1/alerts/{s.long_alert}",
            plans=[
                Plan("find_alert", (s.long_alert,)),
                Plan("alert_timeline_page", (s.long_alert, 501, None, None)),
                Plan("alert_steps", (s.long_alert,)),
            ],
        ),
        Call(
            "alert: long timeline, newest 200",
            f"/api/v1/alerts/{s.long_alert}?timeline_limit={TIMELINE_SHOWN}",
            plans=[
                Plan("find_alert", (s.long_alert,)),
                Plan("alert_timeline_page", (s.long_alert, TIMELINE_SHOWN + 1, None, None)),
                Plan("alert_steps", (s.long_alert,)),
            ],
        ),
        Call(
            "alert: by dedup key",
            f"/api/v1/alerts/{s.alert_key}",
            plans=[Plan("find_alert", (s.alert_key,))],
        ),
        Call("dead letters", "/api/v1/dead-letters", plans=[Plan("dlq_list", (None, PAGE))]),
        Call(
            "dead letters: channel",
            "/api/v1/dead-letters?channel=pager",
            plans=[Plan("dlq_list", ("pager", PAGE))],
        ),
        Call(
            "dead letters: rare channel, 500",
            "/api/v1/dead-letters?channel=legacy-exec-email&limit=500",
            plans=[Plan("dlq_list", ("legacy-exec-email", 500))],
        ),
        Call("config", "/api/v1/config"),
        Call("rate limits", "/api/v1/rate-limits"),
        Call("on call", "/api/v1/oncall"),
        Call("on call, next 7 days", "/api/v1/oncall?next=7d"),
        Call(
            "template render",
            "/api/v1/templates/incident_alert@1.0/render",
            method="POST",
            body={"example": 1},
        ),
        Call("audit log", "/api/v1/audit", plans=[Plan("search_audit", _audit_args())]),
        Call(
            "audit log: one actor",
            "/api/v1/audit?actor=person-7",
            plans=[Plan("search_audit", _audit_args(actor="person-7"))],
        ),
    ]
    return out + pages(s)


def _audit_args(actor: str | None = None) -> tuple[Any, ...]:
    return (actor, None, None, None, None, None, None, PAGE + 1)


def pages(s: Samples) -> list[Call]:
    """The console's pages: each reads what its API call reads, then renders it."""
    opening = [
        Plan("request_by_id", (s.long_alert,)),
        Plan("deliveries_of_request", (s.long_alert,)),
        Plan("events_of_request", (s.long_alert,)),
    ]

    def alert_page(before: EventCursor | None) -> list[Plan]:
        args = (s.long_alert, TIMELINE_SHOWN + 1, before.at if before else None,
                before.id if before else None)  # fmt: skip
        return [
            Plan("find_alert", (s.long_alert,)),
            Plan("alert_timeline_page", args),
            Plan("alert_steps", (s.long_alert,)),
            *opening,
        ]

    def searched(label: str, query: dict[str, str], **filters: Any) -> Call:
        path, plans = search(query, **filters)
        return Call(label, path.replace("/api/v1/", "/ui/", 1), plans=plans)

    return [
        Call("page: alerts", "/ui/alerts", plans=[Plan("list_alerts", (None, PAGE))]),
        Call(
            "page: alerts, acknowledged",
            "/ui/alerts?state=acknowledged",
            plans=[Plan("list_alerts", (AlertStatus.ACKNOWLEDGED, PAGE))],
        ),
        Call(
            "page: alerts, resolved",
            "/ui/alerts?state=resolved",
            plans=[Plan("list_alerts", (AlertStatus.RESOLVED, PAGE))],
        ),
        Call("page: alert, long timeline", f"/ui/alerts/{s.long_alert}", plans=alert_page(None)),
        Call(
            "page: alert, long timeline, older",
            f"/ui/alerts/{s.long_alert}?timeline_before={s.older_timeline.token()}",
            plans=alert_page(s.older_timeline),
        ),
        Call("page: alert by dedup key", f"/ui/alerts/{s.alert_key}"),
        Call("page: on call", "/ui/oncall"),
        searched("page: deliveries", {}),
        searched("page: deliveries, deep page", {}, after=s.deep),
        searched(
            "page: deliveries, title (kernel panic)",
            {"title": "kernel panic"},
            title="kernel panic",
        ),
        searched(
            "page: deliveries, channel + status dead",
            {"channel": "ops-email", "status": "dead"},
            channel="ops-email",
            status=DeliveryStatus.DEAD,
        ),
        searched(
            "page: deliveries, recipient + last week",
            {"recipient": s.common_recipient, "since": (s.anchor - timedelta(days=7)).isoformat()},
            recipient=s.common_recipient,
            since=s.anchor - timedelta(days=7),
        ),
        Call(
            "page: request",
            f"/ui/requests/{s.request_id}",
            plans=[
                Plan("request_by_id", (s.request_id,)),
                Plan("deliveries_of_request", (s.request_id,)),
                Plan("events_of_request", (s.request_id,)),
            ],
        ),
        Call(
            "page: dead letters",
            "/ui/dead-letters",
            plans=[Plan("dlq_list", (None, DEAD_LETTERS_SHOWN))],
        ),
        Call(
            "page: dead letters, channel",
            "/ui/dead-letters?channel=pager",
            plans=[Plan("dlq_list", ("pager", DEAD_LETTERS_SHOWN))],
        ),
        Call("page: config", "/ui/config"),
        Call("page: audit", "/ui/audit", plans=[Plan("search_audit", _audit_args())]),
        Call(
            "page: audit, one actor",
            "/ui/audit?actor=person-7",
            plans=[Plan("search_audit", _audit_args(actor="person-7"))],
        ),
    ]


# Queries the console's pages will need and the API does not run yet (it lists alerts newest
# first, by state): their plans are explained beside the calls', their times printed. A page
# that runs one becomes a row of CALLS.
PROBES = [
    (
        # The open ones along alerts_open_newest (0018), then the resolved along
        # alerts_started_at: a page of each, never a sort of every alert.
        "alerts: open first, then newest",
        "SELECT * FROM ("
        " (SELECT id, status, title, severity, started_at FROM alerts"
        "  WHERE status <> 'resolved' ORDER BY started_at DESC LIMIT 50)"
        " UNION ALL"
        " (SELECT id, status, title, severity, started_at FROM alerts"
        "  WHERE status = 'resolved' ORDER BY started_at DESC LIMIT 50)"
        ") AS page ORDER BY status = 'resolved', started_at DESC LIMIT 50",
    ),
    ("alerts: how many in each state", "SELECT status, count(*) FROM alerts GROUP BY status"),
]


# -- the database --------------------------------------------------------------------------------


async def load(
    conn: asyncpg.Connection, deliveries: int, alerts: int, say: Callable[[str], None]
) -> None:
    """Fill a migrated, empty database (bench/console_load.sql)."""
    steps = parse_named(LOAD_SQL.read_text())
    anchor = await conn.fetchval("SELECT date_trunc('minute', now())")
    cumulative, total = [], 0.0
    for *_, weight in CHANNELS:
        cumulative.append(total)
        total += weight
    await conn.execute("SET synchronous_commit = off")
    await conn.execute("SELECT setseed(0.21)")
    await conn.execute(steps["scale"])
    await conn.execute(
        steps["set_scale"],
        deliveries,
        alerts,
        anchor,
        [c[0] for c in CHANNELS],
        [c[1] for c in CHANNELS],
        [c[2] for c in CHANNELS],
        cumulative,
        SYMPTOMS,
        SERVICES,
    )
    for name in list(steps)[2:]:
        started = time.monotonic()
        status = await conn.execute(steps[name])
        say(
            f"  {name}: {status.split()[-1] if status.split() else ''} ({time.monotonic() - started:.1f} s)"
        )
    for table in ("requests", "deliveries", "delivery_events", "dead_letters", "dead_requests",
                  "alerts", "escalation_steps", "alert_events", "audit_log"):  # fmt: skip
        started = time.monotonic()
        await conn.execute(f"VACUUM (ANALYZE) {table}")
        say(f"  vacuum analyze {table} ({time.monotonic() - started:.1f} s)")
    await conn.execute(
        "CREATE TABLE bench_console_load (deliveries int, alerts int, anchor timestamptz)"
    )
    await conn.execute(
        "INSERT INTO bench_console_load VALUES ($1, $2, $3)", deliveries, alerts, anchor
    )


async def prepare(
    admin: asyncpg.Connection, args: argparse.Namespace, say: Callable[[str], None]
) -> str:
    """The database to measure (created and loaded, or kept from an earlier run): its name."""
    name = (
        f"notifierd_bench_console_{args.deliveries}_{args.alerts}"
        if args.keep_db
        else (f"notifierd_bench_console_{uuid.uuid4().hex[:8]}")
    )
    exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    if exists:
        conn = await asyncpg.connect(url_of(name))
        try:
            loaded = await conn.fetchval("SELECT to_regclass('bench_console_load') IS NOT NULL")
            if loaded:
                applied = await migrate(conn)
                say(f"reusing database {name}; migrations applied now: {applied or 'none'}")
                if applied:
                    await conn.execute("ANALYZE")
                if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM audit_log)"):
                    # Loaded before the load had an audit log: its step alone, from the alerts.
                    status = await conn.execute(parse_named(LOAD_SQL.read_text())["load_audit"])
                    await conn.execute("VACUUM (ANALYZE) audit_log")
                    say(f"  load_audit: {status.split()[-1]}")
                return name
        finally:
            await conn.close()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # an interrupted load
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(url_of(name))
    try:
        await migrate(conn)
        say(f"loading {args.deliveries:,} deliveries and {args.alerts:,} alerts into {name}")
        started = time.monotonic()
        await load(conn, args.deliveries, args.alerts, say)
        say(f"loaded in {time.monotonic() - started:.0f} s")
    finally:
        await conn.close()
    return name


async def park(conn: asyncpg.Connection) -> None:
    """Keep what the daemon would act on in the future while it runs: pending steps and
    retries are due tomorrow, so the measured daemon only answers the calls."""
    await conn.execute(
        "UPDATE escalation_steps SET due_at = now() + interval '1 day' WHERE status = 'pending'"
    )
    await conn.execute(
        "UPDATE deliveries SET next_attempt_at = now() + interval '1 day', "
        "lease_until = CASE WHEN status = 'sending' THEN now() + interval '1 day' END "
        "WHERE status IN ('retrying', 'sending')"
    )


async def samples(conn: asyncpg.Connection) -> Samples:
    anchor = await conn.fetchval("SELECT anchor FROM bench_console_load")
    deliveries = await conn.fetchval("SELECT count(*) FROM deliveries")
    request_id = await conn.fetchval(
        "SELECT d.request_id FROM deliveries AS d WHERE d.status = 'dead' AND d.request_id IN "
        "(SELECT request_id FROM deliveries GROUP BY request_id HAVING count(*) = 3) LIMIT 1"
    )
    long_alert = await conn.fetchval("SELECT id FROM alerts ORDER BY occurrences DESC, id LIMIT 1")
    alert_key = await conn.fetchval(
        "SELECT dedup_key FROM alerts WHERE status = 'resolved' ORDER BY started_at LIMIT 1"
    )
    common, rare = await conn.fetchrow(
        "SELECT (SELECT recipient FROM deliveries WHERE recipient LIKE 'person-%' "
        "        GROUP BY recipient ORDER BY count(*) DESC, recipient LIMIT 1), "
        "       (SELECT recipient FROM deliveries WHERE recipient LIKE 'exec-%' "
        "        GROUP BY recipient ORDER BY count(*), recipient LIMIT 1)"
    )
    deep = await conn.fetchrow(
        "SELECT created_at, id FROM deliveries ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1",
        deliveries // 2,
    )
    dead = await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'dead'")
    deep_dead = await conn.fetchrow(
        "SELECT created_at, id FROM deliveries WHERE status = 'dead' "
        "ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1",
        dead // 2,
    )
    older = await conn.fetchrow(
        "SELECT at, id FROM alert_events WHERE alert_id = $1 ORDER BY at DESC, id DESC "
        "OFFSET $2 LIMIT 1",
        long_alert,
        TIMELINE_SHOWN - 1,
    )
    return Samples(
        anchor=anchor,
        request_id=request_id,
        long_alert=long_alert,
        alert_key=alert_key,
        common_recipient=common,
        rare_recipient=rare,
        deep=DeliveryCursor(deep["created_at"], deep["id"]),
        deep_dead=DeliveryCursor(deep_dead["created_at"], deep_dead["id"]),
        older_timeline=EventCursor(older["at"], older["id"]),
    )


async def explain(
    conn: asyncpg.Connection, measured: list[Call], out: Path, say: Callable[[str], None]
) -> int:
    """Write each call's query plans, then the probes', to ``out``; returns how many plans
    were written."""
    await conn.execute("SET plan_cache_mode = force_custom_plan")  # as the daemon's pool
    explained = [
        (f"{call.label} — {plan.query} {plan.args!r}", q(plan.query), plan.args)
        for call in measured
        for plan in call.plans
    ] + [(f"probe: {label}", sql, ()) for label, sql in PROBES]
    with out.open("w") as fh:
        for title, sql, args in explained:
            rows = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)]
            fh.write(f"=== {title}\n" + "\n".join(rows) + "\n\n")
            if title.startswith("probe: "):
                say(f"{title}: {rows[-1]}")
    return len(explained)


# What the daemon must leave as it is while it answers the calls.
COUNTS = (
    "SELECT (SELECT count(*) FROM deliveries) AS deliveries, "
    "(SELECT count(*) FROM requests) AS requests, "
    "(SELECT count(*) FROM delivery_events) AS events, "
    "(SELECT count(*) FROM alerts) AS alerts, "
    "(SELECT count(*) FROM alert_events) AS alert_events, "
    "(SELECT count(*) FROM dead_letters) AS dead_letters, "
    "(SELECT count(*) FROM audit_log) AS audit_entries"
)


def url_of(database: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + database


# -- the daemon and the measurement -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least ``share`` of them reach."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-int(share * 100 * len(ordered)) // 100) - 1))]


def cpu_ms(pids: list[int]) -> float:
    """User and system CPU the processes ``pids`` have spent, in ms (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return total * 1000 / os.sysconf("SC_CLK_TCK")


async def measure(
    base: str,
    measured: list[Call],
    runs: int,
    warmup: int,
    daemon: int,
    backends: Callable[[], Awaitable[list[int]]],
) -> None:
    """Each call ``warmup`` times untimed, then ``runs`` rounds of every call in turn: the
    machine's load falls on all of them alike. ``daemon``: its pid (one worker, one process);
    ``backends``: the pids of the Postgres backends serving it now (its pool may open
    connections as it goes), read before each round."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for round_ in range(warmup + runs):
            postgres = await backends()
            for call in measured:
                daemon_before, postgres_before = cpu_ms([daemon]), cpu_ms(postgres)
                started = time.perf_counter()
                async with http.request(call.method, base + call.path, json=call.body) as resp:
                    body = await resp.read()
                elapsed = (time.perf_counter() - started) * 1000
                if resp.status != call.status:
                    raise RuntimeError(
                        f"{call.label}: {call.path} answered {resp.status}: {body[:300]!r}"
                    )
                if round_ >= warmup:
                    call.times_ms.append(elapsed)
                    call.daemon_cpu_ms += cpu_ms([daemon]) - daemon_before
                    call.postgres_cpu_ms += cpu_ms(postgres) - postgres_before
                call.found = describe(body, resp.content_type)


def describe(body: bytes, content_type: str) -> str:
    """What an answer held, for the table: the length of its main list, else its size."""
    if content_type == "application/json":
        data = json.loads(body)
        for key in ("deliveries", "alerts", "dead_letters", "timeline", "entries"):
            if isinstance(data, dict) and isinstance(data.get(key), list):
                return f"{len(data[key])} {key.replace('_', ' ')}"
    return f"{len(body):,} B"


def report(measured: list[Call]) -> str:
    """The table: times of each call, and its mean CPU in the daemon and in Postgres."""
    width = max(len(c.label) for c in measured)
    lines = [
        f"{'call':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  "
        f"{'cpu ms':>6}  {'pg ms':>6}  answer"
    ]
    for c in measured:
        p95 = percentile(c.times_ms, 0.95)
        mark = "" if p95 <= TARGET_MS else f"  over {TARGET_MS:g} ms"
        runs = len(c.times_ms)
        lines.append(
            f"{c.label:<{width}}  {percentile(c.times_ms, 0.5):7.1f}  {p95:7.1f}  "
            f"{max(c.times_ms):7.1f}  {c.daemon_cpu_ms / runs:6.1f}  "
            f"{c.postgres_cpu_ms / runs:6.1f}  {c.found}{mark}"
        )
    return "\n".join(lines)


def start_daemon(db_url: str, prefix: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POSTGRES_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
        "NOTIFIERD_API_TOKEN": TOKEN,
    }
    out = open(log, "ab")  # noqa: SIM115 - the child owns it for its lifetime
    command = [
        sys.executable, "-m", "notifierd", "run", "--config", str(ROOT / "config"), "--dry-run",
        "--http", f"127.0.0.1:{port}", "--queue", f"{prefix}:requests", "--key-prefix", prefix,
        "--no-watch", "--log-level", "WARNING", "--workers", "1",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, stdout=out, stderr=out)


async def wait_ready(base: str, daemon: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited: {log.read_text()[-3000:]}")
            try:
                async with http.get(base + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the daemon did not become ready: {log.read_text()[-3000:]}")


async def run(args: argparse.Namespace, say: Callable[[str], None] = print) -> list[Call]:
    """Load (or reuse) the database, start the daemon, measure; returns the calls measured."""
    say(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    admin = await asyncpg.connect(ADMIN)
    name = await prepare(admin, args, say)
    say(f"database: {name}" + (" (kept)" if args.keep_db else " (dropped at the end)"))
    prefix = f"bench-console:{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="notifierd-console-"))
    log = work / "daemon.log"
    redis = Redis.from_url(REDIS_URL)
    daemon = None
    try:
        conn = await asyncpg.connect(url_of(name))
        try:
            await park(conn)
            found = await samples(conn)
            counts = await conn.fetchrow(COUNTS)
            say("loaded: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items()))
            measured = calls(found) + [Call(url, url) for url in args.url]
            port = free_port()
            daemon = start_daemon(url_of(name), prefix, port, log)
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base, daemon, log)
            say(
                f"measuring {len(measured)} calls, {args.runs} runs each after {args.warmup} warm-up"
            )

            async def backends() -> list[int]:
                rows = await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                    "AND application_name = 'notifierd'",
                    name,
                )
                return [r["pid"] for r in rows]

            await measure(base, measured, args.runs, args.warmup, daemon.pid, backends)
            say(f"load average after: {os.getloadavg()[0]:.2f}")
            if (after := await conn.fetchrow(COUNTS)) != counts:
                say(f"warning: the daemon wrote while measured: {dict(counts)} -> {dict(after)}")
            say(report(measured))
            plans = await explain(conn, measured, args.plans, say)
            say(f"{plans} query plans (EXPLAIN ANALYZE, BUFFERS) in {args.plans}")
        finally:
            await conn.close()
        return measured
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
        keys = [k async for k in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        if not args.keep_db:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50, help="timed calls of each (default 50)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls of each first")
    parser.add_argument("--keep-db", action="store_true", help="keep the loaded database, reuse it")
    parser.add_argument(
        "--plans", type=Path, default=Path("console-plans.txt"), help="where the plans go"
    )
    parser.add_argument(
        "--url", action="append", default=[], help="one more path to time, e.g. /ui/alerts"
    )
    parser.add_argument(
        "--quick", action="store_true", help="20,000 deliveries, 500 alerts, 3 runs (the test)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.deliveries, args.alerts, args.runs, args.warmup = 20_000, 500, 3, 1
    if args.deliveries < 1000 or args.alerts < 100 or args.runs < 1:
        parser.error("at least 1,000 deliveries, 100 alerts and 1 run")
    return args


async def main() -> None:
    # A SIGTERM ends the run as Ctrl-C does: the daemon stopped, the keys and database dropped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await run(parse())


if __name__ == "__main__":
    asyncio.run(main())
