"""A dead man's switch with the real Alertmanager: its always-firing Watchdog alert beats a
heartbeat (``from_alert``) and opens no alert; Alertmanager killed, the heartbeat goes late and
pages; Alertmanager back with its Watchdog, the heartbeat's alert resolves.

The intervals are the README recipe's, shrunk: Alertmanager re-sends the Watchdog about every
second (repeat_interval 1s), the heartbeat allows 2s + 1s grace.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_alertmanager_e2e import _deliveries, _ready
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes import unused_port
from tests.fakes.alertmanager import Alertmanager
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

TOKEN = "am-watchdog-token"
ROUTES = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
producers:
  alertmanager:
    token: "${AM_TOKEN}"
    queue: true
routes:
  - name: dead-mans-switch
    matchers: ['heartbeat="prometheus"']
    channels: [sink]
    escalation: oncall
  - name: everything-else
    channels: [flaky]
heartbeats:
  - name: prometheus
    interval: 2s
    grace: 1s
    producer: alertmanager
    from_alert:
      matchers: ['alertname="Watchdog"']
"""
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
"""


def alertmanager_config(url: str) -> str:
    """The README recipe's alertmanager.yml, with intervals of a second."""
    return textwrap.dedent(
        f"""\
        route:
          receiver: notifierd
          group_by: [alertname]
          routes:
            - matchers: ['alertname="Watchdog"']
              receiver: notifierd
              group_wait: 0s
              group_interval: 500ms
              repeat_interval: 1s
        receivers:
          - name: notifierd
            webhook_configs:
              - url: {url}/api/v1/alertmanager
                send_resolved: false
                http_config:
                  authorization: {{credentials: {TOKEN}}}
        """
    )


async def fire_watchdog(am: Alertmanager, http: aiohttp.ClientSession) -> None:
    """Ready, then the Watchdog alert posted as Prometheus would (``vector(1)``)."""
    await wait_until(lambda: _ready(http, am.url), 20, "Alertmanager ready")
    alert: dict[str, Any] = {
        "labels": {"alertname": "Watchdog", "severity": "none"},
        "annotations": {"summary": "The alerting pipeline is alive"},
        "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    async with http.post(f"{am.url}/api/v2/alerts", json=[alert]) as response:
        assert response.status == 200, await response.text()


@pytest.fixture
def daemon_port() -> int:
    return unused_port()


@pytest.fixture
async def alertmanager(tmp_path: Path, daemon_port: int) -> AsyncIterator[Alertmanager]:
    """Alertmanager firing its Watchdog before the daemon starts, so the heartbeat's first
    interval is covered by beats (Alertmanager retries until the daemon answers)."""
    am = Alertmanager(tmp_path, alertmanager_config(f"http://127.0.0.1:{daemon_port}"))
    am.start()
    try:
        async with aiohttp.ClientSession() as http:
            await fire_watchdog(am, http)
        yield am
    finally:
        am.kill()


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    daemon_port: int,
    alertmanager: Alertmanager,
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", TOKEN)
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files={"policies/oncall.yaml": POLICY},
        escalation_poll=0.2,
        heartbeat_poll=0.2,
        http=f"127.0.0.1:{daemon_port}",
    ):
        yield r


async def _heartbeat(running: Running) -> Any:
    return await running.store.pool.fetchrow(
        "SELECT beats, state, alert_id FROM heartbeats WHERE name = 'prometheus'"
    )


async def _alerts(running: Running) -> list[Any]:
    return await running.store.pool.fetch(
        "SELECT id, status, dedup_key, resolved_by FROM alerts ORDER BY started_at"
    )


async def test_watchdog_keeps_the_heartbeat_alive_and_its_silence_pages(
    running: Running, alertmanager: Alertmanager
) -> None:
    # Alive: the Watchdog, re-sent about every second, beats the heartbeat for longer than
    # interval + grace, and opens no alert.
    async def beaten(times: int) -> bool:
        row = await _heartbeat(running)
        return row is not None and row["beats"] >= times

    await wait_until(lambda: beaten(5), 20, "five Watchdog beats")
    row = await _heartbeat(running)
    assert row["state"] == "ok"
    assert await _alerts(running) == []
    assert await running.store.pool.fetchval("SELECT count(*) FROM webhook_requests") == 0
    assert _deliveries(running.sink) == [] and _deliveries(running.flaky) == []

    # Alertmanager dies: the heartbeat goes late and its alert pages, level 1 included.
    alertmanager.kill()

    async def paged() -> bool:
        alerts = await _alerts(running)
        ids = {b["request_id"] for b in _deliveries(running.sink)}
        return len(alerts) == 1 and f"{alerts[0]['id']}:r1l1" in ids

    await wait_until(paged, 15, "the late heartbeat's alert and its level 1")
    [alert] = await _alerts(running)
    assert alert["dedup_key"] == "heartbeat:prometheus" and alert["status"] == "triggered"
    assert (await _heartbeat(running))["state"] == "late"

    # Alertmanager back, its Watchdog firing again: the heartbeat's alert resolves.
    alertmanager.start()
    async with aiohttp.ClientSession() as http:
        await fire_watchdog(alertmanager, http)

    async def resolved() -> bool:
        [alert] = await _alerts(running)
        return bool(alert["status"] == "resolved")

    await wait_until(resolved, 15, "the heartbeat's alert resolved by the Watchdog")
    [alert] = await _alerts(running)
    assert alert["resolved_by"] == "heartbeat:prometheus"
    assert (await _heartbeat(running))["state"] == "ok"
    # Nothing of the Watchdog went anywhere but the heartbeat.
    assert _deliveries(running.flaky) == []
    assert await running.store.pool.fetchval("SELECT count(*) FROM webhook_requests") == 0
