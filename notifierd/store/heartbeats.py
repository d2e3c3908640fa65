"""Heartbeat rows in Postgres: beats, and going late exactly once across replicas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from notifierd.status import HeartbeatState
from notifierd.store.queries import q
from notifierd.store.rows import HeartbeatRow, from_rows


@dataclass(frozen=True, slots=True)
class Beat:
    """What a beat found: the heartbeat was late (its alert to resolve), or not."""

    was_late: bool
    alert_id: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatStatus:
    """A heartbeat as ``notifierd heartbeats`` shows it (query ``list_heartbeats``)."""

    name: str
    since: datetime
    last_beat: datetime | None
    beats: int
    state: HeartbeatState
    late_since: datetime | None
    alert_id: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", HeartbeatState(self.state))


class HeartbeatStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def beat(self, name: str, now: datetime | None = None) -> Beat:
        """Record a beat of ``name``; whether it was late, read under the row lock, so of two
        beats racing on a late heartbeat one alone resolves its alert. ``now``: None for
        Postgres' clock (see store/due.py)."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(q("lock_heartbeat"), name)
            await conn.execute(q("record_beat"), name, now)
        if row is None or row["state"] != HeartbeatState.LATE:
            return Beat(was_late=False)
        return Beat(was_late=True, alert_id=row["alert_id"])

    async def claim_late(
        self, allowed: Sequence[tuple[str, float]], now: datetime | None = None
    ) -> list[HeartbeatRow]:
        """Mark late the heartbeats (name, interval + grace seconds) whose last beat — or,
        never beaten, their first sight — is older than that; each is returned to one caller
        only, whichever replica asks (Postgres decides). ``now``: None for Postgres' clock."""
        if not allowed:
            return []
        names = [name for name, _ in allowed]
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(q("expect_heartbeats"), names, now)
        rows = await self.pool.fetch(
            q("claim_late_heartbeats"), names, [float(s) for _, s in allowed], now
        )
        return from_rows(HeartbeatRow, rows)

    async def unclaim(self, name: str, alert_id: str) -> None:
        """Back to 'ok' after its alert could not be queued: the next pass claims it again."""
        await self.pool.execute(q("unclaim_heartbeat"), name, alert_id)

    async def open_alerts_of_beating(self, names: Sequence[str]) -> list[tuple[str, str]]:
        """(heartbeat, alert id) of each alert still open for a heartbeat that beats again."""
        rows = await self.pool.fetch(q("open_alerts_of_beating_heartbeats"), list(names))
        return [(row["name"], row["alert_id"]) for row in rows]

    async def listing(self, names: Sequence[str]) -> list[HeartbeatStatus]:
        rows = await self.pool.fetch(q("list_heartbeats"), list(names))
        return from_rows(HeartbeatStatus, rows)
