"""The steps table is vacuumed by one replica at a time, so claims stay an index range scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store


async def dead_step_rows(conn: asyncpg.Connection) -> int:
    # The physical truth, not the statistics: row versions no transaction can see any more.
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
    return int(await conn.fetchval("SELECT dead_tuple_count FROM pgstattuple('escalation_steps')"))


async def test_vacuum_removes_the_dead_versions_fired_steps_leave(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    alerts = AlertStore(store.pool)
    try:
        now = datetime.now(UTC)
        for i in range(50):
            await alerts.open(
                f"a-{i}", f"k-{i}", "p", "t", "critical", "snap", now,
                [(0, 1, now - timedelta(seconds=1)), (0, 2, now + timedelta(hours=1))], "{}",
            )  # fmt: skip
        claimed = await alerts.claim_due_steps(100, 60, "replica-a")
        assert len(claimed) == 50
        await alerts.finish_steps([(s.step.alert_id, 0, 1, "fired") for s in claimed], [])
        async with store.pool.acquire() as conn:
            assert await dead_step_rows(conn) >= 50  # pending and firing versions of each

            assert await alerts.vacuum_steps() is True

            assert await dead_step_rows(conn) == 0
            assert await alerts.next_due() == min(
                r["due_at"] for r in await conn.fetch("SELECT due_at FROM escalation_steps "
                                                      "WHERE status = 'pending'")
            )  # fmt: skip
    finally:
        await store.close()


async def test_a_second_replica_does_not_vacuum_at_the_same_time(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        async with store.pool.acquire() as other:
            assert await other.fetchval(
                "SELECT pg_try_advisory_lock(hashtext('notifierd:escalation_steps:vacuum'))"
            )
            assert await AlertStore(store.pool).vacuum_steps() is False
            await other.execute(
                "SELECT pg_advisory_unlock(hashtext('notifierd:escalation_steps:vacuum'))"
            )
        assert await AlertStore(store.pool).vacuum_steps() is True
    finally:
        await store.close()
