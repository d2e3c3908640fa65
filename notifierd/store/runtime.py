"""Run-time silences and schedule overrides in Postgres (migration 0021): add, end early, list.

Validation (matchers, bounds, schedules and people) and the audit rows are the caller's
(``notifierd/runtime/changes.py``); this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from notifierd.store.queries import q
from notifierd.store.rows import OverrideRow, SilenceRow, from_rows

# How long an ended silence or override stays in the listing.
RECENT = timedelta(days=7)


class RuntimeStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def add_silence(
        self,
        matchers: Sequence[str],
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        created_by: str,
    ) -> SilenceRow:
        row = await self.pool.fetchrow(
            q("add_silence"), list(matchers), starts_at, ends_at, reason, created_by
        )
        return from_rows(SilenceRow, [row])[0]

    async def expire_silence(self, silence_id: int, by: str, now: datetime) -> SilenceRow | None:
        """End silence ``silence_id`` at ``now``; None when it had already ended (or is not)."""
        row = await self.pool.fetchrow(q("expire_silence"), silence_id, by, now)
        return from_rows(SilenceRow, [row])[0] if row is not None else None

    async def silence(self, silence_id: int) -> SilenceRow | None:
        row = await self.pool.fetchrow(q("get_silence"), silence_id)
        return from_rows(SilenceRow, [row])[0] if row is not None else None

    async def active_silences(self, now: datetime, limit: int | None = None) -> list[SilenceRow]:
        """Those not ended at ``now`` (some may start later), oldest first; with ``limit``,
        the newest ``limit`` of them, newest first (a listing)."""
        rows = from_rows(SilenceRow, await self.pool.fetch(q("active_silences"), now))
        return rows if limit is None else rows[::-1][:limit]

    async def recent_silences(
        self, now: datetime, limit: int = 100, recent: timedelta = RECENT
    ) -> list[SilenceRow]:
        """Active ones and those ended within ``recent``, newest first."""
        rows = await self.pool.fetch(q("recent_silences"), now, recent, limit)
        return from_rows(SilenceRow, rows)

    async def add_override(
        self,
        schedule: str,
        person: str,
        starts_at: datetime,
        ends_at: datetime,
        reason: str,
        created_by: str,
    ) -> OverrideRow:
        row = await self.pool.fetchrow(
            q("add_override"), schedule, person, starts_at, ends_at, reason, created_by
        )
        return from_rows(OverrideRow, [row])[0]

    async def remove_override(self, override_id: int, by: str, now: datetime) -> OverrideRow | None:
        """End override ``override_id`` at ``now``; None when it had already ended (or is not)."""
        row = await self.pool.fetchrow(q("remove_override"), override_id, by, now)
        return from_rows(OverrideRow, [row])[0] if row is not None else None

    async def override(self, override_id: int) -> OverrideRow | None:
        row = await self.pool.fetchrow(q("get_override"), override_id)
        return from_rows(OverrideRow, [row])[0] if row is not None else None

    async def active_overrides(
        self, now: datetime, schedule: str | None = None, limit: int | None = None
    ) -> list[OverrideRow]:
        """Those not ended at ``now`` (some may start later), oldest first; with ``limit``,
        the newest ``limit`` of them (of ``schedule`` only, when given), newest first."""
        rows = from_rows(OverrideRow, await self.pool.fetch(q("active_overrides"), now))
        if schedule is not None:
            rows = [row for row in rows if row.schedule == schedule]
        return rows if limit is None else rows[::-1][:limit]

    async def recent_overrides(
        self,
        now: datetime,
        schedule: str | None = None,
        limit: int = 100,
        recent: timedelta = RECENT,
    ) -> list[OverrideRow]:
        rows = await self.pool.fetch(q("recent_overrides"), now, recent, schedule, limit)
        return from_rows(OverrideRow, rows)
