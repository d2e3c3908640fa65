"""Alerts end to end: trigger, join, escalate level by level, acknowledge, resolve, restarts, replicas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.clock import SkippingClock
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import (
    QUEUE_CLOSES_ITS_OWN,
    Running,
    operator,
    start_daemon,
    write_config,
)
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = (
    """\
settings:
  retry: {max_retries: 1, initial_delay: 50ms}
  escalation: {misfire_grace: %s}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
  - name: default
    channels: [sink]
"""
    + QUEUE_CLOSES_ITS_OWN
)
POLICY = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: %s, channels: [flaky]}
"""


def config(grace: str = "1h", level2: str = "1s") -> dict[str, Any]:
    return {"routes": ROUTES % grace, "files": {"policies/oncall.yaml": POLICY % level2}}


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        escalation_poll=0.2,
        clock=SkippingClock(),
        **config(),
    ):
        yield r


def skip(running: Running, seconds: float) -> None:
    """Move the daemon's clock on: what falls due meanwhile is due now, in Postgres too."""
    assert running.clock is not None
    running.clock.skip(seconds)


async def fires_nothing(running: Running) -> bool:
    """True when a pass of this replica finds nothing due to fire (run now, not awaited)."""
    return await running.daemon.services.escalator.run_due() == 0


async def alert_of(
    running: Running, key: str, status: str | None = None, timeout: float = 10
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    found = None
    while asyncio.get_running_loop().time() < deadline:
        found = await running.daemon.alerts.store.show(key)
        if found is not None and (status is None or found["status"] == status):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key} not {status}: {found}")


async def steps_done(running: Running, key: str, n: int, timeout: float = 10) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    alert: dict[str, Any] = {}
    while asyncio.get_running_loop().time() < deadline:
        alert = await alert_of(running, key)
        if sum(s["status"] in ("fired", "cancelled", "skipped") for s in alert["steps"]) >= n:
            return alert
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key}: fewer than {n} steps done: {alert}")


def to(sink: WebhookSink) -> list[str]:
    return [b["request_id"] for b in sink.bodies()]


async def test_trigger_escalates_through_every_level(running: Running) -> None:
    rid = await running.push(
        {"kind": "alert", "title": "DB down", "severity": "critical", "dedup_key": "db"}
    )
    await steps_done(running, "db", 1)
    skip(running, 1)  # level 2 is due after 1 s
    alert = await steps_done(running, "db", 2)
    assert alert["id"] == rid and alert["status"] == "triggered" and alert["policy"] == "oncall"
    assert [s["status"] for s in alert["steps"]] == ["fired", "fired"]
    assert [e["kind"] for e in alert["timeline"]] == ["triggered", "escalated", "escalated"]
    await asyncio.sleep(0.3)
    assert sorted(to(running.sink)) == sorted([rid, f"{rid}:r1l1"])  # the route, then level 1
    assert to(running.flaky) == [f"{rid}:r1l2"]
    [level2] = running.flaky.bodies()
    assert level2["subject"] == "[escalation level 2] DB down"


async def test_second_trigger_joins_the_open_alert(running: Running) -> None:
    first = await running.push({"kind": "alert", "title": "Disk full", "dedup_key": "disk"})
    await alert_of(running, "disk")
    second = await running.push({"kind": "alert", "title": "Disk full", "dedup_key": "disk"})
    status = await running.status(second, until=("joined",))
    assert status["reason"] == f"joined open alert {first} (occurrence 2)"
    assert (await alert_of(running, "disk"))["occurrences"] == 2


async def test_acknowledge_through_the_queue_stops_escalation(running: Running) -> None:
    rid = await running.push({"kind": "alert", "title": "API 500s", "dedup_key": "api"})
    await steps_done(running, "api", 1)
    ack = await running.push(
        {"kind": "alert", "action": "acknowledge", "dedup_key": "api", "source": "alice"}
    )
    assert (await running.status(ack, until=("acknowledged",)))["reason"] == f"alert {rid}"
    alert = await alert_of(running, "api", "acknowledged")
    assert alert["acknowledged_by"] == "anonymous"  # the queue's producer, whatever the source
    skip(running, 1.5)  # level 2 was due after 1 s
    assert await fires_nothing(running)
    alert = await alert_of(running, "api")
    assert [s["status"] for s in alert["steps"]] == ["fired", "cancelled"]
    assert to(running.flaky) == []
    # The channels that were told hear about the acknowledgement.
    acks = [b for b in running.sink.bodies() if b["request_id"] == f"{rid}:acknowledge"]
    assert len(acks) == 1 and acks[0]["subject"] == "Acknowledged: API 500s"


async def test_acknowledge_by_the_id_an_escalation_message_carries(running: Running) -> None:
    """A Slack button on a level-2 message carries that message's request id, <alert>:r1l2."""
    rid = await running.push({"kind": "alert", "title": "Queue stuck", "dedup_key": "queue"})
    await steps_done(running, "queue", 1)
    skip(running, 1)
    await steps_done(running, "queue", 2)
    [level2] = to(running.flaky)
    assert level2 == f"{rid}:r1l2"
    # A dedup key that merely looks like a step id names no alert (the key is "queue").
    assert await running.daemon.alerts.acknowledge("queue:r1l2", operator("x"), "slack") is None
    done = await running.daemon.alerts.acknowledge(level2, operator("carol"), "slack")
    assert done is not None and done["id"] == rid and done["acknowledged_by"] == "person:carol"
    assert (
        await running.daemon.alerts.acknowledge(f"{rid}-other:r1l2", operator("x"), "slack") is None
    )
    assert await running.daemon.alerts.acknowledge(f"{rid}:r1", operator("x"), "slack") is None


async def test_resolve_tells_the_channels_and_a_new_trigger_opens_a_new_alert(
    running: Running,
) -> None:
    rid = await running.push({"kind": "alert", "title": "Queue stuck", "dedup_key": "queue"})
    await steps_done(running, "queue", 1)
    skip(running, 1)
    await steps_done(running, "queue", 2)
    result = await running.daemon.alerts.resolve("queue", operator("bob"), "cli")
    assert (
        result is not None
        and result["status"] == "resolved"
        and result["resolved_by"] == "person:bob"
    )
    assert {f"{rid}:resolve"} <= set(to(running.flaky)) and {f"{rid}:resolve"} <= set(
        to(running.sink)
    )
    again = await running.push({"kind": "alert", "title": "Queue stuck", "dedup_key": "queue"})
    assert (await running.status(again))["status"] == "delivered"
    assert (await alert_of(running, again))["status"] == "triggered"
    assert await running.daemon.alerts.acknowledge("no-such-alert", operator("x"), "cli") is None


async def test_overdue_step_fires_at_once_after_a_restart(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    cfg = write_config(tmp_path / "config", **config(level2="2s"))
    clock = SkippingClock()
    async for first in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        sink=sink,
        flaky=flaky,
        config_dir=cfg,
        escalation_poll=0.2,
        clock=clock,
    ):
        rid = await first.push({"kind": "alert", "title": "Overdue", "dedup_key": "late"})
        await steps_done(first, "late", 1)
    clock.skip(3)  # level 2 falls due while no daemon runs
    assert to(flaky) == []
    async for second in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        sink=sink,
        flaky=flaky,
        config_dir=cfg,
        escalation_poll=0.2,
        clock=clock,
    ):
        alert = await steps_done(second, "late", 2, timeout=5)
        assert [s["status"] for s in alert["steps"]] == ["fired", "fired"]
        assert to(flaky) == [f"{rid}:r1l2"]
    await sink.stop()
    await flaky.stop()


async def test_step_claimed_by_a_replica_that_died_fires_when_its_lease_ends(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    cfg = write_config(tmp_path / "config", **config(level2="30s"))
    run = {"sink": sink, "flaky": flaky, "config_dir": cfg, "escalation_poll": 0.2}
    async for first in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
        rid = await first.push({"kind": "alert", "title": "Orphan", "dedup_key": "orphan"})
        await steps_done(first, "orphan", 1)
    # Another replica claimed level 2 and died before firing it: its lease has run out.
    conn = await asyncpg.connect(pg_url)
    try:
        claimed = await conn.execute(
            "UPDATE escalation_steps SET status = 'firing', fired_by = 'dead-replica', "
            "lease_until = now() - interval '1 second', due_at = now() - interval '2 seconds' "
            "WHERE level = 2"
        )
        assert claimed == "UPDATE 1"
    finally:
        await conn.close()
    async for second in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
        alert = await steps_done(second, "orphan", 2, timeout=5)
        assert [s["status"] for s in alert["steps"]] == ["fired", "fired"]
        assert to(flaky) == [f"{rid}:r1l2"]
    await sink.stop()
    await flaky.stop()


async def test_step_beyond_the_misfire_grace_is_skipped(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    cfg = write_config(tmp_path / "config", **config(grace="500ms", level2="1s"))
    clock = SkippingClock()
    async for first in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        sink=sink,
        flaky=flaky,
        config_dir=cfg,
        escalation_poll=0.2,
        clock=clock,
    ):
        await first.push({"kind": "alert", "title": "Missed", "dedup_key": "missed"})
        await steps_done(first, "missed", 1)
    clock.skip(2.5)  # level 2 was due 1.5 s ago when the next daemon starts: beyond the grace
    async for second in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        sink=sink,
        flaky=flaky,
        config_dir=cfg,
        escalation_poll=0.2,
        clock=clock,
    ):
        alert = await steps_done(second, "missed", 2)
        assert [s["status"] for s in alert["steps"]] == ["fired", "skipped"]
        assert "beyond the misfire grace" in alert["timeline"][-1]["detail"]
        assert to(flaky) == []
    await sink.stop()
    await flaky.stop()


async def test_two_replicas_fire_each_step_once(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    cfg = write_config(tmp_path / "config", **config(level2="1s"))
    ids = []
    clock = SkippingClock()
    async for a in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        sink=sink,
        flaky=flaky,
        config_dir=cfg,
        escalation_poll=0.05,
        clock=clock,
    ):
        async for b in start_daemon(
            tmp_path,
            pg_url,
            redis_prefix,
            monkeypatch,
            sink=sink,
            flaky=flaky,
            config_dir=cfg,
            escalation_poll=0.05,
            clock=clock,
        ):
            for i in range(20):
                ids.append(await a.push({"kind": "alert", "title": f"A{i}", "dedup_key": f"k{i}"}))
            for i in range(20):
                await steps_done(b, f"k{i}", 1)
            clock.skip(1)  # every level 2 is due, for both replicas at once
            for i in range(20):
                await steps_done(b, f"k{i}", 2)
            await asyncio.sleep(0.5)
    fired = to(flaky)
    assert sorted(fired) == sorted(
        f"{rid}:r1l2" for rid in ids
    )  # each level-2 step once, none twice
    level1 = [r for r in to(sink) if r.endswith(":r1l1")]
    assert sorted(level1) == sorted(f"{rid}:r1l1" for rid in ids)
    await sink.stop()
    await flaky.stop()


async def test_reload_that_removes_a_level_skips_it_explicitly(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        escalation_poll=0.2,
        clock=SkippingClock(),
        **config(level2="2s"),
    ):
        await running.push({"kind": "alert", "title": "Policy change", "dedup_key": "pc"})
        await steps_done(running, "pc", 1)
        (running.config / "policies" / "oncall.yaml").write_text(
            "levels:\n  - {after: 0s, channels: [sink]}\n"
        )
        assert await running.daemon.reload("test") is True
        skip(running, 2)
        alert = await steps_done(running, "pc", 2)
        assert [s["status"] for s in alert["steps"]] == ["fired", "skipped"]
        assert "no longer has level 2" in alert["timeline"][-1]["detail"]
        assert to(running.flaky) == []


PEOPLE = """\
people:
  carol:
    roles: [operate]
    token: "${CAROL_TOKEN}"
    contacts: [{email: carol@company.com}]
"""


async def test_cli_ack_and_show(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from notifierd.cli.main import _register, cli

    _register()
    monkeypatch.setenv("CAROL_TOKEN", "carol-token")
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        escalation_poll=0.2,
        routes=ROUTES % "1h" + PEOPLE,
        files={"policies/oncall.yaml": POLICY % "1s"},
        http="127.0.0.1:0",
    ):
        monkeypatch.setenv("POSTGRES_URL", str(running.store.url))
        monkeypatch.setenv("NOTIFIERD_API_URL", running.http_url)
        rid = await running.push({"kind": "alert", "title": "From the CLI", "dedup_key": "cli"})
        await steps_done(running, "cli", 1)

        def invoke(*args: str) -> Any:
            return asyncio.to_thread(CliRunner().invoke, cli, list(args))

        # Without a token, or with someone else's guess: refused, exit 2, one line.
        refused = await invoke("alerts", "ack", "cli")
        assert refused.exit_code == 2
        assert refused.output.startswith("error: missing or unknown bearer token")
        result = await invoke("alerts", "ack", "cli", "--token", "carol-token", "--note", "mine")
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"acknowledged: alert {rid} (by person:carol)"
        shown = await invoke("alerts", "show", "cli", "--format", "json")
        assert '"acknowledged_by": "person:carol"' in shown.output
        timeline = [line for line in shown.output.splitlines() if '"via": "http"' in line]
        assert timeline
        listed = await invoke("alerts", "list", "--status", "acknowledged", "--format", "json")
        assert [
            (a["id"], a["status"], a["acknowledged_by"]) for a in json.loads(listed.output)
        ] == [(rid, "acknowledged", "person:carol")]
        table = await invoke("alerts", "list")
        assert table.exit_code == 0, table.output
        # Not a terminal: a header row and tab-separated rows with every value whole.
        header, row = table.output.splitlines()
        assert header.split("\t")[:3] == ["id", "dedup key", "status"]
        assert row.split("\t")[:3] == [rid, "cli", "acknowledged"]
        monkeypatch.setenv("NOTIFIERD_TOKEN", "carol-token")
        missing = await invoke("alerts", "ack", "nope")
        assert missing.exit_code == 1 and "no such alert" in missing.output
        monkeypatch.setenv("NOTIFIERD_API_URL", "http://127.0.0.1:1")
        away = await invoke("alerts", "resolve", "cli")
        assert away.exit_code == 2 and "cannot reach the API at http://127.0.0.1:1" in away.output


async def test_acknowledge_at_level_two_stops_level_three(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    three = (
        "levels:\n  - {after: 0s, channels: [sink]}\n  - {after: 1s, channels: [flaky]}\n"
        "  - {after: 3s, channels: [flaky]}\n"
    )
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        escalation_poll=0.2,
        routes=ROUTES % "1h",
        files={"policies/oncall.yaml": three},
        clock=SkippingClock(),
    ):
        rid = await running.push({"kind": "alert", "title": "Three levels", "dedup_key": "three"})
        await steps_done(running, "three", 1)
        skip(running, 1)
        await steps_done(running, "three", 2)
        assert (
            await running.daemon.alerts.acknowledge("three", operator("dana"), "http") is not None
        )
        skip(running, 3)  # level 3 was due 3 s after the alert opened
        assert await fires_nothing(running)
        alert = await alert_of(running, "three")
        assert [s["status"] for s in alert["steps"]] == ["fired", "fired", "cancelled"]
        assert [r for r in to(running.flaky) if r.startswith(rid + ":r")] == [f"{rid}:r1l2"]
