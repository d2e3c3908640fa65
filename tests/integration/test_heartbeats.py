"""Heartbeats: a late one opens one alert that routes like any other, and the next beat resolves it.

Against a real daemon (Redis, Postgres) on a skipping clock: beats through the queue and the
HTTP API, an alert acknowledged while its heartbeat is still late, two replicas racing on the
same late heartbeat, a producer that may not beat it, and ``notifierd heartbeats``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from notifierd.alerts.heartbeats import Heartbeats
from notifierd.status import AlertStatus
from tests.fakes.clock import SkippingClock
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, operator, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
routes:
  - name: storage-heartbeats
    matchers: ['heartbeat="nightly-backup"', 'team="storage"']
    channels: [sink]
  - name: everything-else
    channels: [flaky]
producers:
  backup: {token: "${BACKUP_TOKEN}"}
  billing: {token: "${BILLING_TOKEN}"}
heartbeats:
  - name: nightly-backup
    interval: 1m
    grace: 30s
    producer: backup
    labels: {team: storage}
  - name: cron
    interval: 1m
    producer: anonymous
    title: The cron host stopped beating
"""
POLL = 0.05  # seconds between a replica's looks for late heartbeats


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("BACKUP_TOKEN", "backup-token")
    monkeypatch.setenv("BILLING_TOKEN", "billing-token")
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        clock=SkippingClock(),
        heartbeat_poll=POLL,
        http="127.0.0.1:0",
    ):
        yield r


def skip(running: Running, seconds: float) -> None:
    assert running.clock is not None
    running.clock.skip(seconds)


async def queue_beat(running: Running, name: str) -> dict[str, Any]:
    """A beat pushed onto the default queue (the anonymous producer's), once it is recorded."""
    rid = await running.push({"kind": "heartbeat", "name": name})
    assert rid is not None
    return await running.status(rid, until=("recorded", "refused", "rejected"))


async def http_beat(running: Running, name: str, token: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(base_url=running.http_url) as http,
        http.post(
            f"/api/v1/heartbeats/{name}", headers={"Authorization": f"Bearer {token}"}
        ) as resp,
    ):
        return resp.status, await resp.json()


def opening_pages(sink: WebhookSink) -> list[str]:
    """Request ids of the heartbeat alerts' own notifications (not their follow-ups)."""
    return [
        b["request_id"]
        for b in sink.bodies()
        if b["request_id"].startswith("heartbeat:")
        and not b["request_id"].endswith((":acknowledge", ":resolve"))
    ]


def follow_ups(sink: WebhookSink) -> list[str]:
    return [b["request_id"] for b in sink.bodies() if b["request_id"].endswith(":resolve")]


async def pages(sink: WebhookSink, n: int, timeout: float = 10) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if len(opening_pages(sink)) >= n:
            return opening_pages(sink)
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {n} heartbeat alerts paged: {sink.bodies()}")


async def alert(running: Running, key: str) -> dict[str, Any]:
    found = await running.daemon.alerts.store.show(key)
    assert found is not None, f"no alert {key}"
    return found


async def test_late_heartbeat_opens_one_alert_and_the_next_beat_resolves_it(
    running: Running,
) -> None:
    assert (await queue_beat(running, "cron"))["reason"] == "heartbeat cron"
    await asyncio.sleep(20 * POLL)
    assert opening_pages(running.sink) + opening_pages(running.flaky) == []

    skip(running, 61)  # past its interval (no grace)
    [page] = await pages(running.flaky, 1)  # no label of the storage route: everything-else
    opened = await alert(running, "heartbeat:cron")
    assert opened["status"] == AlertStatus.TRIGGERED
    assert opened["title"] == "The cron host stopped beating"
    assert opened["id"] == page
    skip(running, 600)
    await asyncio.sleep(20 * POLL)  # late all along: no second alert
    assert opening_pages(running.flaky) == [page]

    recovered = await queue_beat(running, "cron")
    assert recovered["reason"] == f"heartbeat cron: beats resumed, alert {page} resolved"
    resolved = await alert(running, page)
    assert resolved["status"] == AlertStatus.RESOLVED
    assert resolved["resolved_by"] == "heartbeat:cron"
    await asyncio.sleep(20 * POLL)
    assert follow_ups(running.flaky) == [f"{page}:resolve"]
    assert opening_pages(running.flaky) == [page]

    skip(running, 61)  # late again: a new alert, resolved again by the next beat
    assert len(await pages(running.flaky, 2)) == 2
    second = opening_pages(running.flaky)[1]
    assert (await queue_beat(running, "cron"))["reason"].endswith(f"alert {second} resolved")


async def test_acknowledged_while_late_stays_acknowledged_until_the_next_beat(
    running: Running,
) -> None:
    assert (await http_beat(running, "nightly-backup", "backup-token"))[0] == 200
    skip(running, 60)  # within its 30 s grace
    await asyncio.sleep(20 * POLL)
    assert opening_pages(running.sink) == []
    skip(running, 31)
    [page] = await pages(running.sink, 1)  # labelled team=storage: the storage route
    done = await running.daemon.alerts.acknowledge(
        "heartbeat:nightly-backup", operator("bob"), "cli"
    )
    assert isinstance(done, dict) and done["status"] == AlertStatus.ACKNOWLEDGED
    skip(running, 3600)
    await asyncio.sleep(20 * POLL)
    assert opening_pages(running.sink) == [page]  # no re-page
    assert (await alert(running, page))["status"] == AlertStatus.ACKNOWLEDGED

    status, body = await http_beat(running, "nightly-backup", "backup-token")
    assert (status, body) == (200, {"name": "nightly-backup", "resolved": page})
    assert (await alert(running, page))["status"] == AlertStatus.RESOLVED


async def test_only_its_producer_may_beat_a_heartbeat(running: Running) -> None:
    status, body = await http_beat(running, "nightly-backup", "billing-token")
    assert status == 403
    assert body["reason"] == (
        "heartbeat 'nightly-backup' is beaten by producer 'backup' only, not by 'billing'"
    )
    assert (await http_beat(running, "no-such-beat", "backup-token"))[0] == 404
    # The default queue is the anonymous producer's: it may beat cron, not nightly-backup.
    refused = await queue_beat(running, "nightly-backup")
    assert refused["status"] == "refused"
    unknown = await queue_beat(running, "no-such-beat")
    assert unknown["status"] == "rejected"
    listed = await running.daemon.services.heartbeats.store.listing(["nightly-backup"])
    assert [h.beats for h in listed] in ([], [0])  # no refused beat counted


async def test_two_replicas_racing_on_a_late_heartbeat_open_one_alert(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_TOKEN", "backup-token")
    monkeypatch.setenv("BILLING_TOKEN", "billing-token")
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    clock = SkippingClock()
    run: dict[str, Any] = {
        "sink": sink,
        "flaky": flaky,
        "config_dir": write_config(tmp_path / "config", ROUTES),
        "clock": clock,
        "heartbeat_poll": POLL,
    }
    try:
        async for a in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
            async for b in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
                await queue_beat(a, "cron")
                clock.skip(61)
                # Both replicas' own loops race, and so do passes asked for at the same moment.
                snapshot = a.daemon.config()
                passes = await asyncio.gather(
                    *(r.daemon.services.heartbeats.sweep(snapshot) for r in (a, b, a, b))
                )
                [page] = await pages(flaky, 1)
                await asyncio.sleep(20 * POLL)
                assert opening_pages(flaky) == [page]
                assert [name for opened in passes for name in opened] in ([], ["cron"])
                alerts = await a.store.pool.fetchval(
                    "SELECT count(*) FROM alerts WHERE dedup_key = 'heartbeat:cron'"
                )
                assert alerts == 1
    finally:
        await sink.stop()
        await flaky.stop()


async def invoke(*args: str) -> Result:
    from notifierd.cli.main import _register, cli

    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_cli_lists_each_heartbeat_with_its_last_beat_and_state(
    running: Running, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await queue_beat(running, "cron")
    skip(running, 61)
    await pages(running.flaky, 1)
    monkeypatch.setenv("POSTGRES_URL", pg_url)
    done = await invoke("heartbeats", "--config", str(running.config), "--format", "json")
    assert done.exit_code == 0, done.output
    rows = {row["name"]: row for row in json.loads(done.output)}
    assert rows["cron"]["state"] == "late"
    assert rows["cron"]["beats"] == 1
    assert rows["cron"]["last_beat"] is not None
    assert rows["cron"]["alert"] == opening_pages(running.flaky)[0]
    assert rows["nightly-backup"]["state"] == "ok"  # expected since the daemon started
    assert rows["nightly-backup"]["last_beat"] is None
    table = await invoke("heartbeats", "--config", str(running.config))
    assert table.output.splitlines()[0].split()[:3] == ["name", "producer", "interval"]


async def test_a_beat_before_its_queued_alert_opened_resolves_it_on_the_next_pass(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert of a late heartbeat waits on a backed-up queue; a beat comes first."""
    monkeypatch.setenv("BACKUP_TOKEN", "backup-token")
    monkeypatch.setenv("BILLING_TOKEN", "billing-token")
    clock = SkippingClock()
    held: list[bytes] = []

    async def hold(payload: bytes) -> None:  # the queue, backed up
        held.append(payload)

    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES, clock=clock, heartbeat_poll=3600
    ):
        services = running.daemon.services
        watch = Heartbeats(services.heartbeats.store, services.alerts, hold, clock)
        snapshot = running.daemon.config()
        await queue_beat(running, "cron")
        clock.skip(61)
        assert await watch.sweep(snapshot) == ["cron"]
        recovered = await queue_beat(running, "cron")  # nothing open to resolve yet
        assert recovered["reason"] == "heartbeat cron"
        [trigger] = held
        await running.push(trigger)
        [page] = await pages(running.flaky, 1)
        assert (await alert(running, page))["status"] == AlertStatus.TRIGGERED
        assert await watch.sweep(snapshot) == []
        resolved = await alert(running, page)
        assert (resolved["status"], resolved["resolved_by"]) == (
            AlertStatus.RESOLVED,
            "heartbeat:cron",
        )
