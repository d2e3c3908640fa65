"""``notifierd dlq list | retry``: the dead-letter queue."""

from __future__ import annotations

import contextlib
import sys
import uuid

import click

from notifierd.cli.common import print_json
from notifierd.cli.services import run_async, with_store
from notifierd.cli.status import FORMAT, _table


@click.group()
def dlq() -> None:
    """Deliveries that failed permanently or ran out of retries."""


@dlq.command("list")
@click.option("--channel", help="Only this channel.")
@click.option("--limit", default=100, show_default=True)
@FORMAT
def list_(channel: str | None, limit: int, fmt: str) -> None:
    """Dead deliveries, newest first."""
    rows = run_async(with_store(lambda s: s.dlq_list(channel, limit)))
    if fmt == "json":
        print_json([{**dict(r), "delivery_id": str(r["delivery_id"])} for r in rows])
        return
    _table(
        f"dead-letter queue ({len(rows)})",
        ["delivery", "request", "title", "channel", "recipient", "attempts", "dead at", "error"],
        [
            [
                str(r["delivery_id"]),
                r["request_id"],
                r["title"],
                r["channel"],
                r["recipient"] or "-",
                r["attempts"],
                r["dead_at"].strftime("%Y-%m-%d %H:%M:%S"),
                r["error"],
            ]
            for r in rows
        ],
    )


@dlq.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Requeue every dead delivery.")
def retry(ids: tuple[str, ...], all_: bool) -> None:
    """Requeue dead deliveries (delivery ids or request ids) for a fresh round of retries."""
    if not ids and not all_:
        raise click.UsageError("name delivery or request ids, or use --all")
    # Request ids are often UUIDs too: every id counts as a request id, and as a delivery id
    # when it parses as one.
    requests = list(ids)
    deliveries = []
    for value in ids:
        with contextlib.suppress(ValueError):
            deliveries.append(uuid.UUID(value))
    count = run_async(
        with_store(lambda s: s.dlq_retry(all_=all_, delivery_ids=deliveries, request_ids=requests))
    )
    click.echo(
        f"requeued {count} deliver{'y' if count == 1 else 'ies'}; the daemon retries them now"
    )
    if count == 0 and ids:
        sys.exit(1)
