"""``notifierd audit``: the audit log (who did what, when, from where), read from Postgres."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from notifierd.cli.args import LIMIT, Moment, Since
from notifierd.cli.common import print_json
from notifierd.cli.services import run_async, with_store
from notifierd.cli.tables import TABLE_FORMAT, print_table
from notifierd.store.audit import Action

if TYPE_CHECKING:
    from notifierd.store.audit import AuditEntry, AuditSearch
    from notifierd.store.db import Store


def _name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An actor or target as the log writes them: printable, no spaces, at most 200 characters
    (``person:alice``, an alert id)."""
    if value is not None and (
        len(value) > 200 or not value.isprintable() or any(c.isspace() for c in value)
    ):
        raise click.BadParameter(
            "an id such as person:alice or an alert id: at most 200 printable characters, no spaces"
        )
    return value


@click.command()
@click.option("--actor", callback=_name, help="Who acted, e.g. person:alice or producer:ci.")
@click.option(
    "--action",
    type=click.Choice([a.value for a in Action]),
    help="Only this action.",
)
@click.option("--target", callback=_name, help="What was acted on (an alert id, ...).")
@click.option("--since", type=Since(), help="A duration back (24h, 7d) or an ISO time.")
@click.option("--until", type=Moment(), help="An ISO time (exclusive).")
@click.option("--limit", type=LIMIT, default=100, show_default=True)
@TABLE_FORMAT
def audit(
    actor: str | None,
    action: str | None,
    target: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    fmt: str,
) -> None:
    """The audit log, newest first: sign-ins, acknowledgements, resolves, escalations, retries,
    silences, overrides and reloads, with who, how, from where and the outcome."""
    from notifierd.store.audit import AuditSearch

    search = AuditSearch(
        actor=actor,
        action=Action(action) if action else None,
        target=target,
        since=since,
        until=until,
        limit=limit,
    )
    rows = run_async(with_store(lambda store: _search(store, search)))
    if fmt == "json":
        print_json([row.as_json() for row in rows])
        return
    print_table(
        f"audit log ({len(rows)})",
        ["at", "actor", "action", "target", "via", "origin", "outcome", "detail"],
        [
            [
                row.at.strftime("%Y-%m-%d %H:%M:%S") if row.at else None,
                row.actor,
                str(row.action),
                row.target,
                row.via,
                row.origin,
                str(row.outcome),
                json.dumps(row.detail, separators=(",", ":"), default=str) if row.detail else None,
            ]
            for row in rows
        ],
    )


async def _search(store: Store, search: AuditSearch) -> list[AuditEntry]:
    from notifierd.store.audit import AuditLog

    return await AuditLog(store.pool).search(search)
