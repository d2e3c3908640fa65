"""Run-time silences and overrides as JSON: the one shape the API answers and the CLI prints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifierd.store.rows import OverrideRow, SilenceRow


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def silence_json(row: SilenceRow, now: datetime) -> dict[str, Any]:
    """``active``: in force at ``now``; ``name``: what a silenced request records."""
    return {
        "id": row.id,
        "name": f"silence:{row.id}",
        "matchers": list(row.matchers),
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "expired_at": _iso(row.expired_at),
        "expired_by": row.expired_by,
        "active": row.in_force(now),
    }


def override_json(row: OverrideRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "schedule": row.schedule,
        "person": row.person,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "removed_at": _iso(row.removed_at),
        "removed_by": row.removed_by,
        "active": row.in_force(now),
    }
