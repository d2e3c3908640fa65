"""The alert a late heartbeat opens, as a request: the daemon queues it, config tests route it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifierd.config.model import Heartbeat
from notifierd.config.values import format_duration


def late_alert(
    heartbeat: Heartbeat, alert_id: str, last_beat: datetime | None, since: datetime | None = None
) -> dict[str, Any]:
    """The ``kind: alert`` request a late heartbeat opens (config tests route the same one)."""
    every = format_duration(heartbeat.interval)
    grace = f" and {format_duration(heartbeat.grace)} grace" if heartbeat.grace else ""
    if last_beat is not None:
        what = f"no beat since {last_beat.isoformat()}"
    elif since is not None:
        what = f"never beaten (expected since {since.isoformat()})"
    else:
        what = "no beat"
    return {
        "id": alert_id,
        "kind": "alert",
        "action": "trigger",
        "dedup_key": heartbeat.dedup_key,
        "title": heartbeat.title or f"Heartbeat {heartbeat.name} is late",
        "message": (
            f"Heartbeat {heartbeat.name} from producer {heartbeat.producer}: {what}; "
            f"expected every {every}{grace}."
        ),
        "severity": heartbeat.severity,
        "labels": {**heartbeat.labels, "heartbeat": heartbeat.name},
        "source": "notifierd",
        "metadata": {"heartbeat": heartbeat.name, "producer": heartbeat.producer},
    }
