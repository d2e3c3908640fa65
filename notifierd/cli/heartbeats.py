"""``notifierd heartbeats``: each heartbeat of the config, its last beat and its state."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from notifierd.cli import common
from notifierd.cli.services import postgres_url, run_async
from notifierd.cli.tables import TABLE_FORMAT, print_table
from notifierd.config.values import format_duration

if TYPE_CHECKING:
    from notifierd.store.heartbeats import HeartbeatStatus


async def _statuses(names: list[str]) -> list[HeartbeatStatus]:
    from notifierd.store.db import Store
    from notifierd.store.heartbeats import HeartbeatStore

    store = await Store.connect(postgres_url(), min_size=1, max_size=2)
    try:
        return await HeartbeatStore(store.pool).listing(names)
    finally:
        await store.close()


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@click.command()
@common.config_option()
@TABLE_FORMAT
def heartbeats(config_dir: str, fmt: str) -> None:
    """Each heartbeat (routes.yaml heartbeats:) with its last beat and state.

    A heartbeat no daemon has looked at yet shows the state 'unseen'."""
    snapshot = common.load_or_exit(config_dir)
    configured = sorted(snapshot.heartbeats.values(), key=lambda h: h.name)
    found = {s.name: s for s in run_async(_statuses([h.name for h in configured]))}
    rows: list[dict[str, Any]] = []
    for hb in configured:
        status = found.get(hb.name)
        rows.append(
            {
                "name": hb.name,
                "producer": hb.producer,
                "interval": format_duration(hb.interval),
                "grace": format_duration(hb.grace),
                # Beaten by webhook alerts too (a dead man's switch): an "ok" to explain.
                "from_alert": ", ".join(str(m) for m in hb.from_alert) or None,
                "last_beat": _when(status.last_beat) if status else None,
                "beats": status.beats if status else 0,
                "state": str(status.state) if status else "unseen",
                "late_since": _when(status.late_since) if status else None,
                "alert": status.alert_id if status and status.late_since else None,
            }
        )
    if fmt == "json":
        common.print_json(rows)
        return
    columns = list(rows[0]) if rows else ["name", "producer", "interval", "last_beat", "state"]
    print_table(
        f"heartbeats ({len(rows)})",
        [c.replace("_", " ") for c in columns],
        [[row[c] for c in columns] for row in rows],
    )
