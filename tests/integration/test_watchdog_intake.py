"""POST /api/v1/alertmanager on a real daemon with a ``from_alert`` heartbeat: the Watchdog of the
heartbeat's producer is a beat and opens nothing; anyone else's is an ordinary alert."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_heartbeats import invoke

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
WATCHDOG = """\
producers:
  alertmanager: {token: "${AM_TOKEN}", queue: true}
  staging-am: {token: "${STAGING_TOKEN}", queue: true}
heartbeats:
  - name: prometheus
    interval: 1h
    producer: alertmanager
    from_alert:
      matchers: ['alertname="Watchdog"']
"""


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", "am-token")
    monkeypatch.setenv("STAGING_TOKEN", "staging-token")
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES + WATCHDOG, http="127.0.0.1:0"
    ):
        yield r


def group_with_watchdog() -> dict[str, Any]:
    """Alertmanager's DiskFull group with a Watchdog alert in it too."""
    data: dict[str, Any] = json.loads((FIXTURES / "alertmanager_group.json").read_text())
    watchdog = copy.deepcopy(data["alerts"][0])
    watchdog.update(
        labels={"alertname": "Watchdog", "severity": "none"},
        annotations={"summary": "The alerting pipeline is alive"},
        fingerprint="wd01",
    )
    data["alerts"].append(watchdog)
    return data


async def post(running: Running, body: Any, token: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.http_url}/api/v1/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        return response.status, await response.json()


async def beats(running: Running) -> int:
    count = await running.store.pool.fetchval(
        "SELECT beats FROM heartbeats WHERE name = 'prometheus'"
    )
    return int(count or 0)


async def test_the_producers_watchdog_beats_and_the_rest_is_translated(
    running: Running, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, body = await post(running, group_with_watchdog(), "am-token")
    assert status == 200, body
    assert body["beats"] == ["prometheus"]
    assert body["queued"] == 3  # the two DiskFull alerts and their roster, not the Watchdog
    assert await beats(running) == 1
    for request_id in body["requests"]:
        await running.status(request_id, until=("delivered", "joined", "routed", "unchanged"))
    await running.idle()
    titles = await running.store.pool.fetch("SELECT title FROM alerts")
    assert [t["title"] for t in titles] == ["Disk full on db-1"]

    # Each re-send is a beat again, though it queues nothing new.
    status, again = await post(running, group_with_watchdog(), "am-token")
    assert (status, again["queued"], again["beats"]) == (200, 0, ["prometheus"])
    assert await beats(running) == 2

    # `notifierd heartbeats` says what beats it.
    monkeypatch.setenv("POSTGRES_URL", pg_url)
    done = await invoke("heartbeats", "--config", str(running.config), "--format", "json")
    assert done.exit_code == 0, done.output
    [row] = json.loads(done.output)
    assert (row["from_alert"], row["beats"], row["state"]) == ('alertname="Watchdog"', 2, "ok")


async def test_another_producers_watchdog_is_an_ordinary_alert(running: Running) -> None:
    data = group_with_watchdog()
    data["alerts"] = data["alerts"][-1:]
    data["groupKey"] = '{}:{alertname="Watchdog"}'
    status, body = await post(running, data, "staging-token")
    assert status == 200, body
    assert (body["beats"], body["queued"]) == ([], 2)  # the alert, and its group's roster
    await running.status(body["requests"][0], until=("delivered",))
    assert await beats(running) == 0
    [alert] = await running.store.pool.fetch("SELECT title, opened_by FROM alerts")
    assert (alert["title"], alert["opened_by"]) == (
        "The alerting pipeline is alive",
        "producer:staging-am",
    )


async def test_an_invalid_payload_beats_nothing(running: Running) -> None:
    data = group_with_watchdog()
    del data["alerts"][0]["fingerprint"]
    status, body = await post(running, data, "am-token")
    assert status == 400
    assert body["problems"] == ["alerts[0].fingerprint: a non-empty string is required"]
    assert await beats(running) == 0
