"""The real Alertmanager (Debian's prometheus-alertmanager) hands its alerts to the daemon.

Alertmanager runs with intervals of a second, so within the test it notifies each group several
times (group_interval, repeat_interval): the daemon must open, escalate and resolve each
notifierd alert exactly once all the same, and not reopen one a person resolved.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.test_crash_recovery import wait_until
from tests.fakes.alertmanager import Alertmanager
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

TOKEN = "am-e2e-token"
ROUTES = """\
settings:
  retry: {max_retries: 1, initial_delay: 50ms}
  escalation: {misfire_grace: 1h}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
producers:
  alertmanager:
    token: "${AM_TOKEN}"
    queue: true
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
people:
  olive:
    roles: [operate]
    token: "${OLIVE_TOKEN}"
    contacts: [{email: olive@company.com}]
"""
# Level 2 (the flaky sink, here only a second webhook) 4 s after level 1.
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: 4s, channels: [flaky]}
"""


def alertmanager_config(url: str) -> str:
    return textwrap.dedent(
        f"""\
        route:
          receiver: notifierd
          group_by: [alertname]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1s
        receivers:
          - name: notifierd
            webhook_configs:
              - url: {url}/api/v1/alertmanager
                send_resolved: true
                http_config:
                  authorization: {{credentials: {TOKEN}}}
        """
    )


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", TOKEN)
    monkeypatch.setenv("OLIVE_TOKEN", "olive-token")
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files={"policies/oncall.yaml": POLICY},
        escalation_poll=0.2,
        http="127.0.0.1:0",
    ):
        yield r


@pytest.fixture
def alertmanager(tmp_path: Path, running: Running) -> Iterator[str]:
    """The real Alertmanager, alone (no cluster), notifying the daemon; yields its URL."""
    am = Alertmanager(tmp_path, alertmanager_config(running.http_url), debug=True)
    am.start()
    try:
        yield am.url
    finally:
        am.stop()


def _alert(name: str, instance: str, *, resolved: bool = False) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "instance": instance, "severity": "critical"},
        "annotations": {
            "summary": f"{name} on {instance}",
            "description": f"{instance} is in trouble",
        },
        "generatorURL": f"http://prometheus.example/graph?{name}",
        # Resolved: ended a moment ago; firing: ends only if it is not sent again (an hour).
        "endsAt": (
            now - timedelta(seconds=1) if resolved else now + timedelta(hours=1)
        ).isoformat(),
    }


async def _post(http: aiohttp.ClientSession, url: str, alerts: list[dict[str, Any]]) -> None:
    async with http.post(f"{url}/api/v2/alerts", json=alerts) as response:
        assert response.status == 200, await response.text()


async def _sent(http: aiohttp.ClientSession, url: str) -> float:
    """How many webhook notifications Alertmanager has sent (its own metric)."""
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("alertmanager_notifications_total") and 'integration="webhook"' in line
    )


async def _ready(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(f"{url}/-/ready") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def _alerts(running: Running, title_like: str) -> list[Any]:
    return await running.store.pool.fetch(
        "SELECT id, status, title, severity, dedup_key, resolved_by FROM alerts "
        "WHERE title LIKE $1 ORDER BY started_at",
        title_like,
    )


async def _events(running: Running, alert_id: str, kind: str) -> int:
    count = await running.store.pool.fetchval(
        "SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = $2", alert_id, kind
    )
    return int(count)


def _deliveries(sink: WebhookSink) -> list[Any]:
    """What a sink received, one body per delivery: a delivery retried after a slow answer
    (the machine under load) arrives again with the same delivery id."""
    seen: dict[str, Any] = {}
    for body in sink.bodies():
        seen.setdefault(body["delivery_id"], body)
    return list(seen.values())


def _titles(bodies: list[Any]) -> list[str]:
    return [str(b.get("subject")) for b in bodies]


async def test_alertmanager_groups_open_escalate_and_resolve_once_each(
    running: Running, alertmanager: str
) -> None:
    async with aiohttp.ClientSession() as http:
        await wait_until(lambda: _ready(http, alertmanager), 15, "Alertmanager ready")
        # Two alerts of one group (alertname), and one group a person will resolve.
        await _post(
            http,
            alertmanager,
            [_alert("DiskFull", "db-1"), _alert("DiskFull", "db-2"), _alert("CpuHot", "web-1")],
        )

        async def opened() -> bool:
            return len(await _alerts(running, "DiskFull%")) == 1 and (
                len(await _alerts(running, "CpuHot%")) == 1
            )

        await wait_until(opened, 15, "both groups open in notifierd")
        [cpu] = await _alerts(running, "CpuHot%")

        async def told() -> bool:  # each alert's route delivery and its level 1
            return len(_deliveries(running.sink)) >= 4

        await wait_until(told, 15, "level 1 of both alerts")
        async with http.post(
            f"{running.http_url}/api/v1/alerts/{cpu['id']}/resolve",
            headers={"Authorization": "Bearer olive-token"},
        ) as response:
            assert response.status == 200, await response.text()

        # Level 2 of the DiskFull alert, 4 s after level 1.
        async def escalated() -> bool:
            return len(_deliveries(running.flaky)) >= 1

        await wait_until(escalated, 15, "level 2 of the DiskFull alert")
        # Alertmanager notifies each group again and again meanwhile (repeat_interval 1s).
        base = await _sent(http, alertmanager)

        async def resent() -> bool:
            return await _sent(http, alertmanager) >= base + 3

        await wait_until(resent, 15, "Alertmanager re-sending the groups")

        # Both DiskFull members resolve: the group resolves, once.
        await _post(
            http,
            alertmanager,
            [_alert("DiskFull", "db-1", resolved=True), _alert("DiskFull", "db-2", resolved=True)],
        )

        async def resolved() -> bool:
            [disk] = await _alerts(running, "DiskFull%")
            return bool(disk["status"] == "resolved")

        await wait_until(resolved, 20, "the DiskFull group resolved in notifierd")
        # A few more rounds of Alertmanager notifications: nothing changes any more.
        base = await _sent(http, alertmanager)
        await wait_until(lambda: _resent_by(http, alertmanager, base, 2), 15, "more re-sends")
        await running.idle()

        async def told_resolved() -> bool:  # the resolve follow-ups go out after the outcome
            return len(_deliveries(running.sink)) >= 6 and len(_deliveries(running.flaky)) >= 2

        await wait_until(told_resolved, 15, "the resolve follow-ups")

    [disk] = await _alerts(running, "DiskFull%")
    [cpu] = await _alerts(running, "CpuHot%")
    assert disk["severity"] == "critical"
    assert disk["dedup_key"].startswith("am:{}:{alertname=")
    assert disk["resolved_by"] == "producer:alertmanager"
    assert await _events(running, disk["id"], "triggered") == 1
    assert await _events(running, disk["id"], "resolved") == 1
    # Per notifierd alert: the opening request's route delivery, level 1, and the resolve
    # follow-up, once each; level 2 once (CpuHot was resolved before it).
    sink = _deliveries(running.sink)
    assert sorted(_titles(sink)) == [
        "CpuHot on web-1",
        "CpuHot on web-1",
        "DiskFull on db-1",
        "DiskFull on db-1",
        "Resolved: CpuHot on web-1",
        "Resolved: DiskFull on db-1",
    ]
    assert sorted(b["request_id"] for b in sink if b["request_id"].endswith(":r1l1")) == sorted(
        [f"{cpu['id']}:r1l1", f"{disk['id']}:r1l1"]
    )
    assert [b["request_id"] for b in _deliveries(running.flaky)] == [
        f"{disk['id']}:r1l2",
        f"{disk['id']}:resolve",
    ]
    # The group a person resolved was not reopened by Alertmanager's re-sends of it.
    assert cpu["status"] == "resolved" and cpu["resolved_by"] == "person:olive"
    assert await _events(running, cpu["id"], "resolved") == 1


async def _resent_by(http: aiohttp.ClientSession, url: str, base: float, more: int) -> bool:
    return await _sent(http, url) >= base + more


GRAFANA_EXAMPLE = (
    Path(__file__).resolve().parents[1] / "fixtures/webhooks/grafana_docs_example.json"
)


async def _grafana(http: aiohttp.ClientSession, running: Running, payload: Any) -> None:
    async with http.post(
        f"{running.http_url}/api/v1/grafana",
        json=payload,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 200, await response.text()


async def test_grafana_documentation_payload_opens_escalates_and_resolves_once(
    running: Running,
) -> None:
    """Grafana's documented webhook payload, sent as Grafana would: again on each repeat."""
    firing = json.loads(GRAFANA_EXAMPLE.read_text())
    resolved = json.loads(GRAFANA_EXAMPLE.read_text())
    resolved["status"] = "resolved"
    for alert in resolved["alerts"]:
        alert["status"] = "resolved"
    async with aiohttp.ClientSession() as http:
        await _grafana(http, running, firing)

        async def escalated() -> bool:
            return len(_deliveries(running.flaky)) >= 1

        await wait_until(escalated, 15, "level 2 of the Grafana alert")
        await _grafana(http, running, firing)
        await _grafana(http, running, resolved)
        await _grafana(http, running, resolved)
        await _grafana(http, running, firing)  # late copy of a firing notification: not new
        await running.idle()

        async def told_resolved() -> bool:  # the resolve follow-up goes out after the outcome
            return len(_deliveries(running.flaky)) >= 2

        await wait_until(told_resolved, 15, "the resolve follow-up to level 2's channel")
        await asyncio.sleep(1)  # time enough for anything sent twice to arrive too

    [alert] = await _alerts(running, "This alert was triggered%")
    assert alert["status"] == "resolved" and alert["dedup_key"] == "grafana:{}:{}"
    assert await _events(running, alert["id"], "triggered") == 1
    assert await _events(running, alert["id"], "resolved") == 1
    assert [b["request_id"] for b in _deliveries(running.flaky)] == [
        f"{alert['id']}:r1l2",
        f"{alert['id']}:resolve",
    ]
