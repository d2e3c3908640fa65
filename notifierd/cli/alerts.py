"""``notifierd alerts list | show | ack | resolve``."""

from __future__ import annotations

import dataclasses
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from notifierd.cli.common import print_json
from notifierd.cli.services import default_queue, postgres_url, redis_url, run_async
from notifierd.cli.status import FORMAT, _table
from notifierd.status import AlertStatus

if TYPE_CHECKING:
    from notifierd.store.alerts import AlertStore

T = TypeVar("T")


async def _with_alerts(fn: Callable[[AlertStore], Awaitable[T]]) -> T:
    from notifierd.store.alerts import AlertStore
    from notifierd.store.db import Store

    store = await Store.connect(postgres_url(), min_size=1, max_size=2)
    try:
        return await fn(AlertStore(store.pool))
    finally:
        await store.close()


@click.group()
def alerts() -> None:
    """Open and past alerts, and acknowledging or resolving them."""


@alerts.command("list")
@click.option("--status", type=click.Choice([s.value for s in AlertStatus]))
@click.option("--limit", default=50, show_default=True)
@FORMAT
def list_(status: str | None, limit: int, fmt: str) -> None:
    """Alerts, newest first."""
    rows = run_async(_with_alerts(lambda s: s.list(status, limit)))
    if fmt == "json":
        print_json([dataclasses.asdict(r) for r in rows])
        return
    _table(
        f"alerts ({len(rows)})",
        [
            "id",
            "dedup key",
            "status",
            "title",
            "severity",
            "policy",
            "occurrences",
            "started",
            "by",
        ],
        [
            [
                r.id,
                r.dedup_key,
                r.status,
                r.title,
                r.severity,
                r.policy,
                r.occurrences,
                r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.resolved_by or r.acknowledged_by,
            ]
            for r in rows
        ],
    )


@alerts.command()
@click.argument("alert")
@FORMAT
def show(alert: str, fmt: str) -> None:
    """One alert (by id or dedup key) with its timeline and escalation steps."""
    found = run_async(_with_alerts(lambda s: s.show(alert)))
    if found is None:
        click.echo(f"error: no alert with id or dedup key {alert!r}", err=True)
        sys.exit(1)
    if fmt == "json":
        print_json(found)
        return
    click.echo(f"alert {found['id']} ({found['dedup_key']}): {found['status']} — {found['title']}")
    _table(
        "timeline",
        ["at", "event", "by", "via", "detail"],
        [[e["at"], e["kind"], e["actor"], e["via"], e["detail"]] for e in found["timeline"]],
    )
    _table(
        "escalation steps",
        ["round", "level", "due", "status", "fired", "by replica"],
        [
            [s["round"] + 1, s["level"], s["due_at"], s["status"], s["fired_at"], s["fired_by"]]
            for s in found["steps"]
        ],
    )


def _move(alert: str, action: str, by: str | None, wait: float) -> None:
    from notifierd.client import Client

    who = by or getpass.getuser()

    async def main():  # type: ignore[no-untyped-def]
        async with Client(redis_url(), postgres_url(), default_queue()) as client:
            # Through the queue, so the daemon also tells the channels (Slack thread, PagerDuty).
            rid = await client.send(
                {
                    "id": f"{action}-{uuid.uuid4()}",
                    "kind": "alert",
                    "action": action,
                    "dedup_key": alert,
                    "metadata": {"by": who, "via": "cli"},
                }
            )
            return await client.wait(rid, wait)

    status = run_async(main())
    if status is None:
        click.echo(
            f"queued; the daemon has not processed it within {wait}s (is it running?)", err=True
        )
        sys.exit(1)
    if status["status"] == "ignored":
        click.echo(f"error: {status['reason']}", err=True)
        sys.exit(1)
    click.echo(f"{status['status']}: {status['reason']} (by {who})")


@alerts.command()
@click.argument("alert")
@click.option("--by", help="Who (default: your user name).")
@click.option("--wait", default=10.0, show_default=True, help="Seconds to wait for the daemon.")
def ack(alert: str, by: str | None, wait: float) -> None:
    """Acknowledge ALERT (id or dedup key): escalation stops, the channels are told."""
    _move(alert, "acknowledge", by, wait)


@alerts.command()
@click.argument("alert")
@click.option("--by", help="Who (default: your user name).")
@click.option("--wait", default=10.0, show_default=True, help="Seconds to wait for the daemon.")
def resolve(alert: str, by: str | None, wait: float) -> None:
    """Resolve ALERT (id or dedup key): the channels that were told hear it is over."""
    _move(alert, "resolve", by, wait)
