"""Retention deletes only what is older than the period, in batches, while reads go on."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from notifierd.status import AlertStatus
from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.records import DeliveryRecord, RequestRecord
from notifierd.store.retention import purge

NOW = datetime.now(UTC)


def request(rid: str, age_days: float) -> RequestRecord:
    return RequestRecord(
        id=rid,
        kind="notification",
        outcome="routed",
        received_at=NOW - timedelta(days=age_days),
        payload=json.dumps({"id": rid}),
    )


async def test_purge_deletes_only_old_history(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        old = [request(f"old-{i}", 100) for i in range(2500)]
        new = [request(f"new-{i}", 10) for i in range(50)]
        await store.write_batch(
            old + new,
            [
                DeliveryRecord(r.id, "c", "webhook", "", "dead", attempts=1, last_error="x")
                for r in old[:10] + new[:10]
            ],
        )
        async with store.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO rejected_requests (raw, reason, rejected_at) VALUES "
                "('a', 'r', now() - interval '100 days'), ('b', 'r', now())"
            )
        alerts = AlertStore(store.pool)
        for key, age in (("resolved-old", 100), ("open-old", 100), ("resolved-new", 1)):
            started = NOW - timedelta(days=age)
            steps = [(0, 1, started), (0, 2, started + timedelta(minutes=15))]
            await alerts.open(key, key, "p", "t", None, "snap", started, steps, "{}")
        await alerts.transition("resolved-old", AlertStatus.RESOLVED, "x", "cli")
        await alerts.transition("resolved-new", AlertStatus.RESOLVED, "x", "cli")
        async with store.pool.acquire() as conn:
            await conn.execute(
                "UPDATE alerts SET resolved_at = now() - interval '95 days' WHERE id = 'resolved-old'"
            )

        # An old delivery whose request a replica of an earlier version deleted (no cascade).
        await store.write_batch(
            [request("orphaned", 100)],
            [DeliveryRecord("orphaned", "c", "webhook", "", "dead", attempts=1, last_error="x")],
        )
        # An old alert deleted the same way: its steps and timeline were left behind.
        await alerts.open(
            "gone-alert",
            "gone",
            "p",
            "t",
            None,
            "snap",
            NOW - timedelta(days=100),
            [(0, 1, NOW - timedelta(days=100))],
            "{}",
        )
        async with store.pool.acquire() as conn:
            await conn.execute("DELETE FROM alerts WHERE id = 'gone-alert'")
            await conn.execute(
                "UPDATE alert_events SET at = now() - interval '100 days' "
                "WHERE alert_id = 'gone-alert'"
            )
        async with store.pool.acquire() as conn:
            await conn.execute("DELETE FROM requests WHERE id = 'orphaned'")
            await conn.execute(
                "INSERT INTO webhook_requests (id, source, payload, principal, received_at) "
                "VALUES ('am-old', 'alertmanager', '{}', 'p', now() - interval '100 days'), "
                "('am-new', 'alertmanager', '{}', 'p', now())"
            )
            await conn.execute(
                "INSERT INTO audit_log (at, actor, action, via, outcome) VALUES "
                "(now() - interval '100 days', 'person:a', 'acknowledge', 'http', 'done'), "
                "(now(), 'person:a', 'resolve', 'http', 'done')"
            )
            await conn.execute(
                "UPDATE deliveries SET created_at = now() - interval '100 days' "
                "WHERE request_id = 'orphaned'"
            )
            # Run-time silences and overrides: one ended long ago each, one ended early long
            # ago (though it was to last), one still in force.
            for table, ended in (("silences", "expired"), ("overrides", "removed")):
                what = "matchers" if table == "silences" else "schedule, person"
                value = "ARRAY['a=b']" if table == "silences" else "'p', 'alice'"
                await conn.execute(
                    f"INSERT INTO runtime_{table} ({what}, starts_at, ends_at, reason, "
                    f"created_by, {ended}_at) VALUES "
                    f"({value}, now() - interval '101 days', now() - interval '100 days', "
                    "'r', 'x', NULL), "
                    f"({value}, now() - interval '101 days', now() + interval '1 day', "
                    "'r', 'x', now() - interval '100 days'), "
                    f"({value}, now(), now() + interval '1 day', 'r', 'x', NULL)"
                )

        async def reader() -> int:  # status keeps answering while the purge runs
            n = 0
            for _ in range(20):
                assert (await store.request_status("new-1")) is not None
                n += 1
                await asyncio.sleep(0)
            return n

        deleted, reads = await asyncio.gather(
            purge(store.pool, NOW - timedelta(days=90), batch=500), reader()
        )
        assert deleted == {
            "requests": 2500,
            "orphans": 1,
            "rejected": 1,
            "alerts": 1,
            "orphan_steps": 1,
            "orphan_alert_events": 1,
            "webhook_requests": 1,
            "audit": 1,
            "runtime_silences": 2,
            "runtime_overrides": 2,
        }
        assert reads == 20
        async with store.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM requests") == 50
            assert await conn.fetchval("SELECT count(*) FROM deliveries") == 10
            assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 10
            # Children go with their parents (no foreign key cascades for them).
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id"
                )
                == await conn.fetchval("SELECT count(*) FROM delivery_events")
                == 10
            )
            for table in ("escalation_steps", "alert_events"):
                assert sorted(
                    {r["alert_id"] for r in await conn.fetch(f"SELECT alert_id FROM {table}")}
                ) == ["open-old", "resolved-new"], table
            assert await conn.fetchval("SELECT count(*) FROM rejected_requests") == 1
            assert await conn.fetchval("SELECT action FROM audit_log") == "resolve"
            assert sorted(r["id"] for r in await conn.fetch("SELECT id FROM alerts")) == [
                "open-old",
                "resolved-new",
            ]
    finally:
        await store.close()
