"""/metrics shows the open alerts and how far escalations are behind, read from Postgres: the
oldest step that should have fired, whether it waits unclaimed or its claimer died."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.rows import AlertGauges
from tests.integration.daemon_harness import start_daemon
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_alerts import config


async def test_overdue_is_the_oldest_step_that_should_have_fired(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    alerts = AlertStore(store.pool)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        assert await store.alert_gauges(now) == AlertGauges(0, 0.0)
        for key, steps in {
            "late": [(0, 1, now - timedelta(seconds=90)), (0, 2, now + timedelta(hours=1))],
            "later": [(0, 1, now - timedelta(seconds=30))],
            "not-yet": [(0, 1, now + timedelta(minutes=10))],
        }.items():
            await alerts.open(key, key, "p", "t", "critical", "snap", now, steps, "{}")
        assert await store.alert_gauges(now) == AlertGauges(3, 90.0)

        # A replica claims both due steps for 30 s and dies: nothing is overdue while its
        # lease runs, and the lease's end is what is overdue afterwards.
        claimed = await alerts.claim_due_steps(10, 30, "replica-that-dies", now)
        assert len(claimed) == 2
        assert await store.alert_gauges(now) == AlertGauges(3, 0.0)
        assert await store.alert_gauges(now + timedelta(seconds=100)) == AlertGauges(3, 70.0)

        await alerts.finish_steps([(s.step.alert_id, 0, 1, "fired") for s in claimed], [])
        assert await store.alert_gauges(now + timedelta(seconds=100)) == AlertGauges(3, 0.0)
        # The next due step counts once its time has come.
        assert await store.alert_gauges(now + timedelta(minutes=11)) == AlertGauges(3, 60.0)
    finally:
        await store.close()


async def exported(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as answer:
        text = await answer.text()
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in ("notifierd_open_alerts", "notifierd_escalation_overdue_seconds")
    }


async def test_the_daemon_exports_them(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        heartbeat_ttl=3.0,  # the maintenance pass, which publishes them, every second
        **config(level2="1h"),
    ):
        await running.push({"kind": "alert", "title": "DB down", "dedup_key": "db"})
        seen: dict[str, float] = {}
        for _ in range(100):
            seen = await exported(running.http_url)
            if seen.get("notifierd_open_alerts") == 1:
                break
            await asyncio.sleep(0.1)
        assert seen.get("notifierd_open_alerts") == 1, seen
        # Level 1 is due at once: a pass that ran between the alert's opening and its firing
        # rightly showed it milliseconds overdue. Once it has fired, the next passes show none.
        conn = await asyncpg.connect(pg_url)
        try:
            for _ in range(100):
                fired = await conn.fetchval(
                    "SELECT count(*) FROM escalation_steps WHERE level = 1 AND status = 'fired'"
                )
                if fired:
                    break
                await asyncio.sleep(0.1)
        finally:
            await conn.close()
        assert fired == 1
        await asyncio.sleep(2.5)  # two maintenance passes after the firing
        # Level 1 fired, level 2 is an hour away: one open alert, nothing behind.
        seen = await exported(running.http_url)
        assert seen == {"notifierd_open_alerts": 1, "notifierd_escalation_overdue_seconds": 0}
