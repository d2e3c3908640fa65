"""Escalate now: the next level fires at once, once, with who asked; later levels keep their gaps.

Against a real daemon (Redis, Postgres) on a skipping clock, through the alert service, the HTTP
API, the CLI and a signed Slack button press.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from click.testing import CliRunner, Result

from notifierd.alerts.service import ESCALATE_JOIN_WINDOW
from notifierd.errors import Conflict
from notifierd.http import slack_replies
from notifierd.http.slack import signature
from tests.fakes.clock import SkippingClock
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, operator, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  retry: {max_retries: 1, initial_delay: 50ms}
  escalation: {misfire_grace: 1h}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
people:
  carol:
    roles: [operate]
    token: "${CAROL_TOKEN}"
    contacts: [{email: carol@company.com}]
  victor:
    roles: [view]
    token: "${VICTOR_TOKEN}"
    contacts: [{email: victor@company.com}]
"""
# Level 3 is 20 s after level 2: escalating level 2 now puts level 3 at now + 20 s.
THREE_LEVELS = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: 10s, channels: [flaky]}
  - {after: 30s, channels: [flaky]}
"""
TWO_LEVELS_ONE_REPEAT = """\
levels:
  - {after: 0s, channels: [sink]}
  - {after: 10s, channels: [flaky]}
repeat: 1
repeat_after: 1h
"""
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documentation placeholder


async def _start(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
) -> AsyncIterator[Running]:
    monkeypatch.setenv("CAROL_TOKEN", "carol-token")
    monkeypatch.setenv("VICTOR_TOKEN", "victor-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files={"policies/oncall.yaml": policy},
        escalation_poll=0.2,
        clock=SkippingClock(),
        http="127.0.0.1:0",
    ):
        yield r


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in _start(tmp_path, pg_url, redis_prefix, monkeypatch, THREE_LEVELS):
        yield r


@pytest.fixture
async def repeating(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in _start(tmp_path, pg_url, redis_prefix, monkeypatch, TWO_LEVELS_ONE_REPEAT):
        yield r


def now(running: Running) -> datetime:
    assert running.clock is not None
    return running.clock()


async def steps_fired(running: Running, key: str, n: int, timeout: float = 10) -> dict[str, Any]:
    """The alert once ``n`` of its steps have fired."""
    deadline = asyncio.get_running_loop().time() + timeout
    alert: dict[str, Any] | None = None
    while asyncio.get_running_loop().time() < deadline:
        alert = await running.daemon.alerts.store.show(key)
        if alert is not None and sum(s["status"] == "fired" for s in alert["steps"]) >= n:
            return alert
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key}: fewer than {n} steps fired: {alert}")


def steps(alert: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alert's steps by their notification's name, ``r<round>l<level>``."""
    return {f"r{s['round'] + 1}l{s['level']}": s for s in alert["steps"]}


def due(step: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(step["due_at"])


def pages(sink: WebhookSink) -> list[str]:
    return [b["request_id"] for b in sink.bodies()]


async def opened(running: Running, key: str) -> str:
    """Open an alert and wait until its level 1 has fired; its id."""
    rid = await running.push({"kind": "alert", "title": f"{key} down", "dedup_key": key})
    assert rid is not None
    await steps_fired(running, key, 1)
    return rid


async def test_escalate_fires_the_next_level_now_and_later_levels_keep_their_gaps(
    running: Running,
) -> None:
    rid = await opened(running, "db")
    before = now(running)
    done = await running.daemon.alerts.escalate("db", operator("alice"), "cli", note="slow")
    after = now(running)
    assert isinstance(done, dict)
    assert done["escalation"]["level"] == 2 and done["escalation"]["round"] == 1
    assert done["escalation"]["requested_by"] == "person:alice"
    assert done["escalation"]["joined"] is False

    # Level 2 fires at once, without the clock moving on the 10 s it was due after.
    alert = await steps_fired(running, "db", 2)
    level2, level3 = steps(alert)["r1l2"], steps(alert)["r1l3"]
    assert before <= due(level2) <= after
    assert (due(level3) - due(level2)).total_seconds() == 20  # its gap, counted from now
    assert (level2["requested_by"], level3["status"]) == ("person:alice", "pending")
    await asyncio.sleep(0.3)
    [page] = running.flaky.bodies()
    assert page["request_id"] == f"{rid}:r1l2"
    assert page["request"]["labels"]["escalated_by"] == "person:alice"
    requested = [e for e in alert["timeline"] if e["kind"] == "escalation_requested"]
    assert [(e["actor"], e["via"], e["detail"]) for e in requested] == [
        ("person:alice", "cli", "level 2 (round 1) now; note: slow")
    ]
    [escalated] = [
        e
        for e in alert["timeline"]
        if e["kind"] == "escalated" and e["detail"].startswith("level 2 (round 1)")
    ]
    assert "asked for by person:alice" in escalated["detail"]

    # Level 3 keeps its 20 s: not at 19 s, but at 21 s.
    assert running.clock is not None
    running.clock.skip((due(level2) - now(running)).total_seconds() + 19)
    assert await running.daemon.services.escalator.run_due() == 0
    running.clock.skip(2)
    await steps_fired(running, "db", 3)
    assert pages(running.flaky) == [f"{rid}:r1l2", f"{rid}:r1l3"]


async def test_concurrent_escalates_fire_one_level(running: Running) -> None:
    rid = await opened(running, "api")
    results = await asyncio.gather(
        *(running.daemon.alerts.escalate("api", operator(n), "http") for n in "abcdef")
    )
    assert all(isinstance(r, dict) for r in results)
    escalations = [r["escalation"] for r in results if isinstance(r, dict)]
    assert {(e["round"], e["level"]) for e in escalations} == {(1, 2)}
    [first] = [e for e in escalations if not e["joined"]]
    assert all(e["requested_by"] == first["requested_by"] for e in escalations)
    alert = await steps_fired(running, "api", 2)
    await asyncio.sleep(0.5)  # a second level would have fired by now
    assert [s["status"] for s in alert["steps"]] == ["fired", "fired", "pending"]
    assert pages(running.flaky) == [f"{rid}:r1l2"]
    requested = [e for e in alert["timeline"] if e["kind"] == "escalation_requested"]
    assert len(requested) == 6  # every request is recorded, with who asked
    assert sum(e["detail"] == "level 2 (round 1) now" for e in requested) == 1
    # One more, moments later (the first seemed to do nothing): the same level still.
    again = await running.daemon.alerts.escalate("api", operator("g"), "slack")
    assert isinstance(again, dict) and again["escalation"]["joined"] is True
    assert again["escalation"]["level"] == 2
    # Past that moment, a request means the next level.
    assert running.clock is not None
    running.clock.skip(ESCALATE_JOIN_WINDOW + 1)
    later = await running.daemon.alerts.escalate("api", operator("g"), "slack")
    assert isinstance(later, dict) and later["escalation"]["level"] == 3
    await steps_fired(running, "api", 3)


async def test_two_replicas_escalating_at_once_fire_one_level(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    config = write_config(tmp_path / "config", ROUTES, {"policies/oncall.yaml": THREE_LEVELS})
    clock = SkippingClock()
    run: dict[str, Any] = {
        "sink": sink,
        "flaky": flaky,
        "config_dir": config,
        "escalation_poll": 0.2,
        "clock": clock,
    }
    try:
        async for a in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
            async for b in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
                rid = await opened(a, "both")
                results = await asyncio.gather(
                    *(
                        replica.daemon.alerts.escalate("both", operator(n), "slack")
                        for n in "abc"
                        for replica in (a, b)
                    )
                )
                levels = {
                    (r["escalation"]["level"], r["escalation"]["joined"])
                    for r in results
                    if isinstance(r, dict)
                }
                assert levels == {(2, False), (2, True)}
                await steps_fired(b, "both", 2)
                await asyncio.sleep(0.5)  # a second page, or a level 3, would be here by now
        assert pages(flaky) == [f"{rid}:r1l2"]
    finally:
        await sink.stop()
        await flaky.stop()


async def test_refused_on_an_acknowledged_or_resolved_alert(running: Running) -> None:
    await opened(running, "acked")
    await running.daemon.alerts.acknowledge("acked", operator("bob"), "cli")
    refused = await running.daemon.alerts.escalate("acked", operator("alice"), "cli")
    assert isinstance(refused, Conflict)
    assert refused.reason.endswith("is acknowledged: escalation has stopped")
    rid = await opened(running, "gone")
    await running.daemon.alerts.resolve("gone", operator("bob"), "cli")
    refused = await running.daemon.alerts.escalate(rid, operator("alice"), "cli")
    assert refused == Conflict(f"alert {rid} is resolved: escalation has stopped")
    await asyncio.sleep(0.3)
    assert running.flaky.bodies() == [] or all(
        b["request_id"].endswith((":acknowledge", ":resolve")) for b in running.flaky.bodies()
    )
    assert await running.daemon.alerts.escalate("no-such", operator("alice"), "cli") is None


async def test_after_the_last_level_the_next_round_then_refused(repeating: Running) -> None:
    rid = await opened(repeating, "disk")
    escalate = repeating.daemon.alerts.escalate
    first = await escalate("disk", operator("alice"), "cli")
    assert isinstance(first, dict) and first["escalation"]["level"] == 2
    await steps_fired(repeating, "disk", 2)
    assert repeating.clock is not None
    repeating.clock.skip(ESCALATE_JOIN_WINDOW + 1)  # a later request, not the same one again
    # Past the last level: the policy's repeat starts round 2 now, its level 2 10 s later.
    before = now(repeating)
    second = await escalate("disk", operator("alice"), "cli")
    assert isinstance(second, dict)
    assert (second["escalation"]["round"], second["escalation"]["level"]) == (2, 1)
    alert = await steps_fired(repeating, "disk", 3)
    r2l1, r2l2 = steps(alert)["r2l1"], steps(alert)["r2l2"]
    assert due(r2l1) >= before and (due(r2l2) - due(r2l1)).total_seconds() == 10
    assert repeating.clock is not None
    repeating.clock.skip(11)  # round 2's level 2 keeps its gap and fires on its own
    await steps_fired(repeating, "disk", 4)
    # Nothing left: no level, no repeat.
    refused = await escalate("disk", operator("alice"), "cli")
    assert refused == Conflict(
        f"alert {rid} is at its last level and its policy has no repeat left"
    )
    await asyncio.sleep(0.3)
    assert sorted(pages(repeating.flaky)) == [f"{rid}:r1l2", f"{rid}:r2l2"]


# -- HTTP and the CLI ----------------------------------------------------------------------------


async def test_http_escalate_needs_operate_and_answers_409_with_the_reason(
    running: Running,
) -> None:
    await opened(running, "web")
    async with aiohttp.ClientSession(base_url=running.http_url) as http:
        viewer = {"Authorization": "Bearer victor-token"}
        async with http.post("/api/v1/alerts/web/escalate", headers=viewer) as resp:
            assert resp.status == 403
            assert (await resp.json())["needs"] == "operate or produce"
        carol = {"Authorization": "Bearer carol-token"}
        async with http.post(
            "/api/v1/alerts/web/escalate", headers=carol, json={"note": "no answer"}
        ) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["escalation"]["requested_by"] == "person:carol"
        await steps_fired(running, "web", 2)
        await running.daemon.alerts.acknowledge("web", operator("bob"), "cli")
        async with http.post("/api/v1/alerts/web/escalate", headers=carol) as resp:
            assert resp.status == 409
            refused = await resp.json()
        assert refused["reason"] == f"alert {body['id']} is acknowledged: escalation has stopped"


async def invoke(*args: str) -> Result:
    from notifierd.cli.main import _register, cli

    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_cli_escalate(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = await opened(running, "cli")
    monkeypatch.setenv("NOTIFIERD_API_URL", running.http_url)
    monkeypatch.setenv("NOTIFIERD_TOKEN", "carol-token")
    done = await invoke("alerts", "escalate", "cli")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(
        f"escalated: level 2 (round 1) of alert {rid} fires now (by person:carol); "
        "the next level is due at "
    )
    await steps_fired(running, "cli", 2)
    await invoke("alerts", "ack", "cli")
    refused = await invoke("alerts", "escalate", "cli")
    assert refused.exit_code == 1
    assert refused.output == f"error: alert {rid} is acknowledged: escalation has stopped\n"
    monkeypatch.setenv("NOTIFIERD_TOKEN", "victor-token")
    forbidden = await invoke("alerts", "escalate", "cli")
    assert forbidden.exit_code == 2


# -- Slack ---------------------------------------------------------------------------------------


def pressed(value: str, response_url: str, at: float) -> bytes:
    """A form body shaped like Slack's block_actions payload for a press of Escalate."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U123", "username": "alice", "name": "alice", "team_id": "T1"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C42"},
        "channel": {"id": "C42", "name": "incidents"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": "notifierd_escalate",
                "block_id": "notifierd_alert_actions",
                "value": value,
                "action_ts": f"{at:.6f}",  # each press its own body: not a replay
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(SECRET, timestamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def replies(sink: WebhookSink, n: int) -> list[dict[str, Any]]:
    for _ in range(100):
        if len(sink.bodies()) >= n:
            break
        await asyncio.sleep(0.05)
    return list(sink.bodies())


async def test_slack_escalate_button(running: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    slack = WebhookSink()  # where Slack's response_url would lead
    await slack.start()
    monkeypatch.setattr(slack_replies, "RESPONSE_URL_PREFIX", slack.url)
    try:
        rid = await opened(running, "slack")
        async with aiohttp.ClientSession(base_url=running.http_url) as http:
            # The level-1 message's button carries that step's id.
            body = pressed(f"{rid}:r1l1", slack.url, 1.0)
            async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
                assert resp.status == 200
            alert = await steps_fired(running, "slack", 2)
            assert steps(alert)["r1l2"]["requested_by"] == "slack:U123"
            [told] = await replies(slack, 1)
            assert told == {
                "response_type": "ephemeral",
                "replace_original": False,
                "text": f"Escalated: level 2 (round 1) of alert {rid} is being paged now.",
            }
            await running.daemon.alerts.resolve("slack", operator("bob"), "cli")
            body = pressed(f"{rid}:r1l1", slack.url, 2.0)
            async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
                assert resp.status == 200
            refused = (await replies(slack, 2))[1]
            assert refused["response_type"] == "ephemeral"
            assert refused["text"] == (
                f"Not escalated: alert {rid} is resolved: escalation has stopped."
            )
        assert pages(running.flaky)[0] == f"{rid}:r1l2"
        assert f"{rid}:r1l3" not in pages(running.flaky)
    finally:
        await slack.stop()
