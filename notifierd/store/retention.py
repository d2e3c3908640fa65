"""Retention: delete history older than the retention period, in short batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import asyncpg

from notifierd.store.queries import q

log = logging.getLogger("notifierd.retention")


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])  # "DELETE 1000"


async def purge(
    pool: asyncpg.Pool, older_than: datetime, *, batch: int = 1000, pause: float = 0.01
) -> dict[str, int]:
    """Delete requests (with their deliveries), rejected input, resolved alerts (with their
    steps and timelines), audit entries and ended run-time silences and overrides older than
    ``older_than``, and what an older replica's cascade-less
    deletes left behind. Each batch is its own short transaction, so readers never wait long."""
    deleted = {}
    for name in (
        "purge_requests",
        "purge_orphans",
        "purge_rejected",
        "purge_alerts",
        "purge_orphan_steps",
        "purge_orphan_alert_events",
        "purge_webhook_requests",
        "purge_audit",
        "purge_runtime_silences",
        "purge_runtime_overrides",
    ):
        total = 0
        while True:
            n = _count(await pool.execute(q(name), older_than, batch))
            total += n
            if n < batch:
                break
            await asyncio.sleep(pause)  # let other work in between batches
        deleted[name.removeprefix("purge_")] = total
    if any(deleted.values()):
        log.info(
            "retention: deleted %s older than %s",
            deleted,
            older_than.isoformat(),
            extra={"event": "retention"},
        )
    return deleted


async def run(
    pool: asyncpg.Pool,
    retention_days: Callable[[], int],
    clock: Callable[[], datetime],
    stopping: asyncio.Event,
    *,
    every: float = 3600.0,
    first: float = 60.0,
) -> None:
    """Purge hourly (first a minute after start) until ``stopping``; the retention period is
    the active config's at each pass."""
    wait = first
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), wait)
            return
        wait = every
        try:
            await purge(pool, clock() - timedelta(days=retention_days()))
        except Exception:
            log.exception("retention pass failed; the next one retries")
