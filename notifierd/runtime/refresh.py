"""Every daemon's copy of the run-time silences and overrides: read from Postgres at most once a
second and laid over the active config, so the hot path runs no query.

A silence added on one replica applies on every replica at its next read (within about a
second or two); one that reaches its end stops applying at once, because the router compares
times, not only when a read drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from notifierd import metrics
from notifierd.active import ConfigHolder, Runtime
from notifierd.config.matchers import MatcherError, parse_matcher
from notifierd.reconnect import Outage
from notifierd.routing.silences import Silence, Silences
from notifierd.schedules.runtime import RuntimeOverride
from notifierd.store.db import is_transient
from notifierd.store.rows import OverrideRow, SilenceRow
from notifierd.store.runtime import RuntimeStore

log = logging.getLogger("notifierd.runtime")

INTERVAL = 1.0  # seconds between two reads: "within 1-2 s on every replica"


def silence_of(row: SilenceRow) -> Silence | None:
    """The row as the router checks it; None (logged) for a matcher that no longer parses."""
    try:
        matchers = tuple(parse_matcher(text) for text in row.matchers)
    except MatcherError as exc:
        log.error("run-time silence %d is ignored: %s", row.id, exc)
        return None
    return Silence(row.id, matchers, row.starts_at, row.ends_at, row.reason, row.created_by)


def override_of(row: OverrideRow) -> RuntimeOverride:
    return RuntimeOverride(
        person=row.person,
        start=row.starts_at,
        end=row.ends_at,
        reason=row.reason,
        id=row.id,
        schedule=row.schedule,
        created_by=row.created_by,
    )


def runtime_of(silences: Sequence[SilenceRow], overrides: Sequence[OverrideRow]) -> Runtime:
    """What the router and the on-call engine honour, from the rows not yet ended."""
    checked = [s for s in map(silence_of, silences) if s is not None]
    return Runtime(Silences(tuple(checked)), tuple(override_of(o) for o in overrides))


async def read_runtime(store: RuntimeStore, now: datetime) -> Runtime:
    """The silences and overrides not ended at ``now`` (for ``routes test`` and ``oncall``)."""
    return runtime_of(await store.active_silences(now), await store.active_overrides(now))


class RuntimeRefresher:
    """Reads the rows not yet ended and, when they changed, lays them over ``holder``'s config."""

    def __init__(
        self, store: RuntimeStore, holder: ConfigHolder, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.holder = holder
        self.clock = clock
        self._seen: tuple[list[SilenceRow], list[OverrideRow]] | None = None

    async def refresh(self) -> bool:
        """One read; True when what the daemon honours changed."""
        now = self.clock()
        silences = await self.store.active_silences(now)
        overrides = await self.store.active_overrides(now)
        if self._seen == (silences, overrides):
            return False
        first, self._seen = self._seen is None, (silences, overrides)
        self.holder.set_runtime(runtime_of(silences, overrides))
        metrics.RUNTIME_SILENCES.set(len(silences))
        metrics.RUNTIME_OVERRIDES.set(len(overrides))
        if first and not silences and not overrides:
            return True  # nothing to say at a start without any
        log.info(
            "run-time silences and overrides: %d silence(s), %d override(s) not ended",
            len(silences),
            len(overrides),
            extra={"event": "runtime_refreshed"},
        )
        return True

    async def run(self, stopping: asyncio.Event, interval: float = INTERVAL) -> None:
        """Refresh every ``interval`` until ``stopping``; Postgres away keeps the last copy
        (whose silences and overrides still end on time)."""
        what = "reading run-time silences and overrides"
        outage = Outage(log, is_transient, event="postgres_unavailable")
        while not stopping.is_set():
            try:
                async with asyncio.timeout(max(interval, 5.0)):
                    await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage.failed(what, f"the next read in {interval:g}s", exc)
            else:
                outage.succeeded(what)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)
