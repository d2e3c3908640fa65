"""``notifierd status``, ``history`` and ``metrics``: what happened to requests, from Postgres."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from notifierd.cli.args import HOURS, LIMIT, Since
from notifierd.cli.common import print_json
from notifierd.cli.services import run_async, with_store
from notifierd.cli.tables import TABLE_FORMAT, print_table
from notifierd.status import DeliveryStatus


@click.command()
@click.argument("request_id")
@TABLE_FORMAT
def status(request_id: str, fmt: str) -> None:
    """A request's overall status and each of its deliveries."""
    found = run_async(with_store(lambda s: s.request_status(request_id)))
    if found is None:
        click.echo(
            f"error: no request {request_id!r} is recorded (not processed yet, or older than "
            "the retention period)",
            err=True,
        )
        sys.exit(1)
    if fmt == "json":
        print_json(found)
        return
    click.echo(
        f"request {found['id']} ({found['kind']}): {found['status']}"
        + (f" — {found['reason']}" if found["reason"] else "")
    )
    click.echo(
        f"routes: {', '.join(found['routes']) or '-'}   config: {found['snapshot']}   "
        f"received: {found['received_at']}"
    )
    print_table(
        "deliveries",
        ["channel", "recipient", "status", "attempts", "latency ms", "template", "error / note"],
        [
            [
                d["channel"],
                d["recipient"] or "-",
                d["status"],
                d["attempts"],
                f"{d['latency_ms']:.1f}" if d["latency_ms"] is not None else "",
                d["template"] or "plain",
                d["error"] or d["note"] or "",
            ]
            for d in found["deliveries"]
        ],
    )
    chains = fallback_chains(found["deliveries"])
    if chains:
        click.echo("fallbacks:")
        for line in chains:
            click.echo(f"  {line}")


def fallback_chains(deliveries: list[dict[str, Any]]) -> list[str]:
    """One line per dead delivery that fell back: ``ops-slack #ops → dead (why) → fallback
    ops-email ops@company.com: delivered``; several fallbacks are joined with ``;``."""
    by_id = {d["id"]: d for d in deliveries}
    lines = []
    for dead in deliveries:
        if not dead["fallbacks"]:
            continue
        why = _short(dead["error"] or "no error recorded")
        links = []
        for fid in dead["fallbacks"]:
            fallback = by_id.get(fid)
            if fallback is None:  # purged by retention
                continue
            link = f"fallback {_where(fallback)}: {fallback['status']}"
            if fallback["status"] == DeliveryStatus.DEAD and fallback["error"]:
                link += f" ({_short(fallback['error'])})"
            links.append(link)
        if links:
            lines.append(f"{_where(dead)} → dead ({why}) → {'; '.join(links)}")
    return lines


def _where(delivery: dict[str, Any]) -> str:
    return f"{delivery['channel']} {delivery['recipient'] or ''}".strip()


def _short(error: str, limit: int = 80) -> str:
    """The reason without the advice that follows it in parentheses (the table has it whole)."""
    text = " ".join(error.split())
    reason, _, _ = text.partition(" (")
    text = reason or text
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.command()
@click.option("--hours", type=HOURS, default=24.0, show_default=True, help="How far back.")
@click.option("--channel", help="A channel name or type.")
@click.option(
    "--status",
    "status_",
    type=click.Choice([s.value for s in DeliveryStatus]),
    help="Only deliveries in this status.",
)
@click.option("--limit", type=LIMIT, default=100, show_default=True)
@TABLE_FORMAT
def history(hours: float, channel: str | None, status_: str | None, limit: int, fmt: str) -> None:
    """Recent deliveries, newest first."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    rows = run_async(with_store(lambda s: s.history(since, channel, status_, limit)))
    if fmt == "json":
        print_json([dataclasses.asdict(r) for r in rows])
        return
    print_table(
        f"deliveries in the last {hours:g}h",
        ["when", "request", "title", "channel", "recipient", "status", "attempts", "error"],
        [
            [
                r.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.request_id,
                r.title,
                r.channel,
                r.recipient or "-",
                r.status,
                r.attempts,
                r.last_error,
            ]
            for r in rows
        ],
    )


@click.command()
@click.option(
    "--since",
    type=Since(),
    default="24h",
    show_default=True,
    help="A duration (24h, 7d) or an ISO time.",
)
@TABLE_FORMAT
def metrics(since: datetime, fmt: str) -> None:
    """Totals, success rate and latency by channel."""
    start = since
    data = run_async(with_store(lambda s: s.metrics(start)))
    for c in data["channels"]:
        finished = c["delivered"] + c["dead"]
        c["success_rate"] = round(c["delivered"] / finished, 4) if finished else None
    total = sum(c["total"] for c in data["channels"])
    delivered = sum(c["delivered"] for c in data["channels"])
    dead = sum(c["dead"] for c in data["channels"])
    data["totals"] = {
        "deliveries": total,
        "delivered": delivered,
        "dead": dead,
        "success_rate": round(delivered / (delivered + dead), 4) if delivered + dead else None,
    }
    data["since"] = start.isoformat()
    if fmt == "json":
        print_json(data)
        return
    t = data["totals"]
    rate = f"{t['success_rate']:.2%}" if t["success_rate"] is not None else "-"
    click.echo(
        f"since {start:%Y-%m-%d %H:%M} UTC: {t['deliveries']} deliveries, {t['delivered']} delivered, "
        f"{t['dead']} dead, success rate {rate}; requests {data['requests']}, rejected {data['rejected']}"
    )

    def ms(v: float | None) -> str:
        return f"{v:.1f}" if v is not None else "-"

    print_table(
        "by channel",
        [
            "channel",
            "type",
            "total",
            "delivered",
            "dead",
            "pending",
            "held back",
            "retries",
            "success",
            "avg ms",
            "p50 ms",
            "p99 ms",
        ],
        [
            [
                c["channel"],
                c["channel_type"],
                c["total"],
                c["delivered"],
                c["dead"],
                c["pending"],
                c["held_back"],
                c["retries"],
                f"{c['success_rate']:.2%}" if c["success_rate"] is not None else "-",
                ms(c["avg_latency_ms"]),
                ms(c["p50_latency_ms"]),
                ms(c["p99_latency_ms"]),
            ]
            for c in data["channels"]
        ],
    )
