"""``notifierd alerts list | show | ack | resolve | escalate``."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from notifierd.cli.args import LIMIT
from notifierd.cli.common import print_json
from notifierd.cli.services import postgres_url, run_async
from notifierd.cli.tables import TABLE_FORMAT, print_table
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
    """Open and past alerts, and acknowledging, resolving or escalating them."""


@alerts.command("list")
@click.option("--status", type=click.Choice([s.value for s in AlertStatus]))
@click.option("--limit", type=LIMIT, default=50, show_default=True)
@TABLE_FORMAT
def list_(status: str | None, limit: int, fmt: str) -> None:
    """Alerts: open ones first (triggered, then acknowledged), newest first, then resolved."""
    rows = run_async(_with_alerts(lambda s: s.list(status, limit)))
    if fmt == "json":
        print_json([dataclasses.asdict(r) for r in rows])
        return
    print_table(
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
            "level",
            "next escalation",
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
                r.level,
                r.next_escalation_at.strftime("%Y-%m-%d %H:%M:%S")
                if r.next_escalation_at
                else None,
            ]
            for r in rows
        ],
    )


@alerts.command()
@click.argument("alert")
@TABLE_FORMAT
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
    print_table(
        "timeline",
        ["at", "event", "by", "via", "detail"],
        [[e["at"], e["kind"], e["actor"], e["via"], e["detail"]] for e in found["timeline"]],
    )
    print_table(
        "escalation steps",
        ["round", "level", "due", "status", "fired", "by replica", "asked for by", "paged"],
        [
            [
                s["round"] + 1,
                s["level"],
                s["due_at"],
                s["status"],
                s["fired_at"],
                s["fired_by"],
                s["requested_by"],
                "; ".join(paged_line(p) for p in s.get("paged") or []),
            ]
            for s in found["steps"]
        ],
    )


def paged_line(paged: dict[str, Any]) -> str:
    """Where a step's notification went: ``schedule:primary → alice → chat @U0ALICE``, or
    ``chat #ops`` for a recipient that names no schedule; its status when not delivered."""
    where = f"{paged['channel']} {paged['address']}" if paged["address"] else paged["channel"]
    if paged["via"] is not None:
        who = paged["person"] or ("fallback" if paged["via"] == "fallback" else paged["via"])
        where = f"{paged['recipient']} → {who}" + (f" → {where}" if paged["address"] else "")
    status = paged["status"]
    return where if status in ("delivered", "dry_run") else f"{where} ({status})"


def _act(
    alert: str, action: str, api_url: str | None, token: str | None, note: str | None
) -> dict[str, Any]:
    """Through the HTTP API as the token's principal: the daemon records who acted from the
    token, never from a name given here, and tells the channels (Slack thread, PagerDuty).
    Exits 1 when there is no such alert or its state refuses the action, 2 when the API cannot
    be reached or will not let this token act."""
    from notifierd.client import ApiClient, ApiError

    async def main() -> dict[str, Any]:
        async with ApiClient(api_url, token) as api:
            act = {
                "acknowledge": api.acknowledge,
                "resolve": api.resolve,
                "escalate": api.escalate,
            }[action]
            return await act(alert, note)

    try:
        return run_async(main())
    except ApiError as exc:
        hint = {
            401: " (set NOTIFIERD_TOKEN or --token to your own API token)",
            403: "",
            None: " (is the daemon running with --http? set NOTIFIERD_API_URL or --api-url)",
        }.get(exc.status, "")
        click.echo(f"error: {exc}{hint}", err=True)
        sys.exit(1 if exc.status in (404, 409) else 2)


def _move(
    alert: str, action: str, api_url: str | None, token: str | None, note: str | None
) -> None:
    done = _act(alert, action, api_url, token, note)
    state = done["status"]
    by = done["acknowledged_by"] if action == "acknowledge" else done["resolved_by"]
    click.echo(f"{state}: alert {done['id']} (by {by})")


API_URL = click.option(
    "--api-url",
    envvar="NOTIFIERD_API_URL",
    help="The daemon's HTTP API [env NOTIFIERD_API_URL; default http://127.0.0.1:9464].",
)
TOKEN = click.option(
    "--token", envvar="NOTIFIERD_TOKEN", help="Your own API token [env NOTIFIERD_TOKEN]."
)
NOTE = click.option("--note", help="A note recorded with the action (not who acted).")


@alerts.command()
@click.argument("alert")
@API_URL
@TOKEN
@NOTE
def ack(alert: str, api_url: str | None, token: str | None, note: str | None) -> None:
    """Acknowledge ALERT (id or dedup key) as yourself: escalation stops, the channels are told."""
    _move(alert, "acknowledge", api_url, token, note)


@alerts.command()
@click.argument("alert")
@API_URL
@TOKEN
@NOTE
def resolve(alert: str, api_url: str | None, token: str | None, note: str | None) -> None:
    """Resolve ALERT (id or dedup key) as yourself: the channels that were told hear it is over."""
    _move(alert, "resolve", api_url, token, note)


@alerts.command()
@click.argument("alert")
@API_URL
@TOKEN
@NOTE
def escalate(alert: str, api_url: str | None, token: str | None, note: str | None) -> None:
    """Fire the next level of ALERT (id or dedup key) now, as yourself; later levels keep their
    gaps, counted from now. Refused (exit 1) once acknowledged or resolved, or past the last
    level when the policy has no repeat left."""
    done = _act(alert, "escalate", api_url, token, note)
    step = done["escalation"]
    level = f"level {step['level']} (round {step['round']})"
    if step["joined"]:
        click.echo(
            f"not escalated further: {level} of alert {done['id']} was escalated moments ago "
            f"by {step['requested_by']}"
        )
        return
    then = f"; the next level is due at {step['next_due_at']}" if step["next_due_at"] else ""
    click.echo(
        f"escalated: {level} of alert {done['id']} fires now (by {step['requested_by']}){then}"
    )
