"""Schedule recipients through the running daemon: the person on call at a delivery's first
attempt is paged, and stays the one paged across retries and replays after a handoff; nobody
on call is on record, counted, and escalates at once."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifierd import metrics
from notifierd.cli.alerts import paged_line
from tests.fakes.clock import SkippingClock
from tests.fakes.slack_api import API, FakeSlackAPI
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, operator, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  # The first retry comes after the schedule's next handoff (the test skips the clock past both).
  retry: {max_retries: 3, initial_delay: 90m, multiplier: 1, max_delay: 2h, jitter: 0}
  escalation: {misfire_grace: 1h}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
  paging: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", fallback: [sink]}
  sink: {type: webhook, url: "${SINK_URL}"}
people:
  alice:
    contacts: [{slack: "@U0ALICE"}]
  bob:
    contacts: [{slack: "@U0BOB"}]
  dave:
    contacts: [{slack: "@U0DAVE"}]
routes:
  - name: paged
    matchers: ['team="db"']
    channels: [chat]
    recipients: ["@on-call-primary"]
  - name: gap
    matchers: ['team="nobody"']
    channels: [chat]
    recipients: ["schedule:gap"]
  - name: gap-falls-back
    matchers: ['team="gapfb"']
    channels: [paging]
    recipients: ["schedule:gap"]
  - name: covered
    matchers: ['team="covered"']
    channels: [chat]
    recipients: ["@covered"]
  - name: soon
    matchers: ['team="soon"']
    channels: [chat]
    recipients: ["schedule:soon"]
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
  - name: default
    channels: [sink]
"""
# Level 1 pages a schedule with nobody on call: level 2 must not wait its hour.
GAP_POLICY = """\
levels:
  - {after: 0s, channels: [chat], recipients: ["schedule:gap"]}
  - {after: 1h, channels: [sink]}
"""
# Level 2 pages whoever is on call when it fires: by then an override puts dave on call.
PRIMARY_POLICY = """\
levels:
  - {after: 0s, channels: [chat], recipients: ["@on-call-primary"]}
  - {after: 45m, channels: [chat], recipients: ["on-call-primary"]}
"""


def _local(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M")


def schedules(now: datetime) -> dict[str, str]:
    """``primary``: alice for the next half hour or so, bob after; dave by override from 40
    minutes on. ``gap``: nobody until next year. ``covered``: the same gap with a fallback."""
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=30)
    override_from = now.replace(second=0, microsecond=0) + timedelta(minutes=40)
    primary = f"""\
        timezone: UTC
        handle: on-call-primary
        layers:
          - {{name: hourly, members: [alice, bob], rotation: 1h, start: "{_local(start)}"}}
        overrides:
          - {{person: dave, from: "{_local(override_from)}", until: "{_local(override_from + timedelta(hours=1))}"}}
        """
    later = _local(now + timedelta(days=400))
    gap = f"""\
        timezone: UTC
        layers:
          - {{name: later, members: [alice], rotation: 1w, start: "{later}"}}
        """
    covered = textwrap.dedent(gap) + 'handle: covered\nfallback: ["#incidents"]\n'
    soon = f"""\
        timezone: UTC
        layers:
          - {{name: later, members: [bob], rotation: 1w, start: "{_local(start + timedelta(hours=1))}"}}
        """
    return {
        "schedules/soon.yaml": soon,
        "schedules/primary.yaml": primary,
        "schedules/gap.yaml": gap,
        "schedules/covered.yaml": covered,
    }


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> AsyncIterator[Running]:
    clock = SkippingClock()
    files = schedules(clock())
    files["policies/oncall.yaml"] = GAP_POLICY
    files["policies/primary.yaml"] = PRIMARY_POLICY
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files=files,
        clock=clock,
        escalation_poll=0.2,
    ):
        yield r


def skip(running: Running, seconds: float) -> None:
    assert running.clock is not None
    running.clock.skip(seconds)


async def delivery(running: Running, rid: str, status: str, timeout: float = 10) -> dict[str, Any]:
    """The request's one delivery once it has ``status``."""
    deadline = asyncio.get_running_loop().time() + timeout
    found: dict[str, Any] | None = None
    while asyncio.get_running_loop().time() < deadline:
        found = await running.store.request_status(rid)
        if found and found["deliveries"] and found["deliveries"][0]["status"] == status:
            assert len(found["deliveries"]) == 1
            return found["deliveries"][0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"request {rid}: no {status} delivery in {timeout}s: {found}")


async def alert_of(running: Running, key: str) -> str:
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        alert = await running.daemon.alerts.store.show(key)
        if alert is not None:
            return str(alert["id"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no alert {key}")


async def fired_steps(running: Running, key: str, n: int) -> dict[str, Any]:
    """The alert once ``n`` of its steps have fired (without the clock moving)."""
    deadline = asyncio.get_running_loop().time() + 10
    alert: dict[str, Any] | None = None
    while asyncio.get_running_loop().time() < deadline:
        alert = await running.daemon.alerts.store.show(key)
        if alert and sum(s["status"] == "fired" for s in alert["steps"]) >= n:
            return alert
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key}: fewer than {n} steps fired: {alert}")


def unresolved(schedule: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "notifierd_oncall_unresolved_total", {"schedule": schedule}
    )
    return value or 0.0


async def test_paged_at_the_first_attempt_and_kept_across_a_retry_after_the_handoff(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    slack_api.fail_next(1, 503, path=API + "chat.postMessage")
    rid = await running.push({"labels": {"team": "db"}})
    assert rid is not None
    first = await delivery(running, rid, "retrying")
    # Keyed on the schedule, not on the person: the same id whoever it resolved to.
    assert first["recipient"] == "schedule:primary"
    assert first["paged"] == {"person": "alice", "via": "layer hourly", "address": "@U0ALICE"}
    skip(running, 100 * 60)  # past the handoff to bob (and the override), and the retry's delay
    done = await delivery(running, rid, "delivered")
    assert done["id"] == first["id"]
    assert done["paged"]["person"] == "alice"
    assert [m["channel"] for m in slack_api.messages] == ["D0ALICE"]
    # The message names her, so the page reads as hers wherever it shows.
    assert slack_api.messages[0]["text"].startswith("<@U0ALICE> ")


async def test_a_replay_after_the_handoff_sends_nothing_again(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    rid = await running.push({"labels": {"team": "db"}})
    assert rid is not None
    await delivery(running, rid, "delivered")
    skip(running, 3600)  # bob is on call now
    await running.push({"id": rid, "labels": {"team": "db"}})
    await running.idle()
    done = await delivery(running, rid, "delivered")
    assert done["paged"]["person"] == "alice"
    assert [m["channel"] for m in slack_api.messages] == ["D0ALICE"]


async def test_nobody_on_call_is_recorded_dead_with_the_reason_and_counted(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    before = unresolved("gap")
    rid = await running.push({"labels": {"team": "nobody"}})
    assert rid is not None
    dead = await delivery(running, rid, "dead")
    assert dead["recipient"] == "schedule:gap"
    assert dead["error"] == "nobody on call for schedule gap"
    assert dead["paged"] == {"person": None, "via": "nobody on call", "address": None}
    assert unresolved("gap") == before + 1
    assert slack_api.messages == []


async def test_a_dead_letter_put_back_is_resolved_at_its_retry(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    rid = await running.push({"labels": {"team": "soon"}})
    assert rid is not None
    dead = await delivery(running, rid, "dead")
    assert dead["error"] == "nobody on call for schedule soon"
    skip(running, 3600)  # bob's layer has started
    assert await running.store.dlq_retry(request_ids=[rid]) == 1
    done = await delivery(running, rid, "delivered")
    assert done["paged"] == {"person": "bob", "via": "layer later", "address": "@U0BOB"}
    assert [m["channel"] for m in slack_api.messages] == ["D0BOB"]


async def test_a_channel_fallback_takes_a_page_to_nobody(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    rid = await running.push({"labels": {"team": "gapfb"}})
    assert rid is not None
    deadline = asyncio.get_running_loop().time() + 10
    while not running.sink.bodies():
        assert asyncio.get_running_loop().time() < deadline, await running.store.request_status(rid)
        await asyncio.sleep(0.05)
    status = await running.store.request_status(rid)
    assert status is not None
    by_channel = {d["channel"]: d for d in status["deliveries"]}
    assert by_channel["paging"]["status"] == "dead"
    assert by_channel["paging"]["error"] == "nobody on call for schedule gap"
    assert by_channel["sink"]["fallback_of"] == by_channel["paging"]["id"]
    assert slack_api.messages == []


async def test_the_fallback_is_paged_when_nobody_is_on_call(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    rid = await running.push({"labels": {"team": "covered"}})
    assert rid is not None
    done = await delivery(running, rid, "delivered")
    assert done["paged"] == {"person": None, "via": "fallback", "address": "#incidents"}
    assert [m["channel"] for m in slack_api.messages] == ["C0INCIDENTS"]
    assert not slack_api.messages[0]["text"].startswith("<@")  # nobody to mention


async def test_a_level_that_pages_nobody_fires_the_next_level_at_once(running: Running) -> None:
    await running.push({"kind": "alert", "title": "db down", "dedup_key": "gap-1"})
    alert = await fired_steps(running, "gap-1", 2)
    # Without the clock moving its hour: the sink has the alert's own page and level 2's.
    assert sorted(b["request_id"] for b in running.sink.bodies())[-1].endswith(":r1l2")
    events = [e for e in alert["timeline"] if e["kind"] == "escalation_requested"]
    assert events and "nobody on call for schedule gap" in (events[0]["detail"] or "")


async def test_an_escalation_level_pages_who_is_on_call_when_it_fires(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    clock = SkippingClock()
    files = schedules(clock())
    files["policies/primary.yaml"] = PRIMARY_POLICY
    routes = ROUTES.replace("escalation: oncall", "escalation: primary")
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=routes,
        files=files,
        clock=clock,
        escalation_poll=0.2,
    ):
        slack_api.users["U0DAVE"] = "dave"
        await running.push({"kind": "alert", "title": "db down", "dedup_key": "p-1"})
        alert_id = await alert_of(running, "p-1")
        level1 = await delivery(running, f"{alert_id}:r1l1", "delivered")
        assert level1["paged"]["person"] == "alice"
        clock.skip(46 * 60)  # level 2 is due; dave's override is in force
        level2 = await delivery(running, f"{alert_id}:r1l2", "delivered")
        assert level2["paged"] == {"person": "dave", "via": "override", "address": "@U0DAVE"}
        assert [m["channel"] for m in slack_api.messages] == ["D0ALICE", "D0DAVE"]
        # `alerts show`: per level, who was paged and by which contact.
        alert = await fired_steps(running, "p-1", 2)
        shown = {s["level"]: [paged_line(p) for p in s["paged"]] for s in alert["steps"]}
        assert shown == {
            1: ["schedule:primary → alice → chat @U0ALICE"],
            2: ["schedule:primary → dave → chat @U0DAVE"],
        }
        escalated = [e["detail"] for e in alert["timeline"] if e["kind"] == "escalated"]
        assert escalated[-1].endswith("; paged dave (schedule primary, override) on chat")
        # Past the override and the next handoff (bob's turn), the acknowledgement still goes
        # to those the alert paged, in their threads.
        clock.skip(3600)
        await running.daemon.alerts.acknowledge("p-1", operator("carol"), "cli")
        deadline = asyncio.get_running_loop().time() + 10
        while len([m for m in slack_api.messages if m.get("thread_ts")]) < 2:
            assert asyncio.get_running_loop().time() < deadline, slack_api.messages
            await asyncio.sleep(0.05)
        replies = sorted(m["channel"] for m in slack_api.messages if m.get("thread_ts"))
        assert replies == ["D0ALICE", "D0DAVE"]


HANDOFF_ROUTES = """\
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
people:
  alice:
    contacts: [{slack: "@U0ALICE"}]
  bob:
    contacts: [{slack: "@U0BOB"}]
routes:
  - name: db
    matchers: ['team="db"']
    channels: [chat]
    recipients: ["@on-call-primary"]
"""


async def test_the_incoming_person_is_told_once_with_the_open_alerts(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    clock = SkippingClock()
    start = clock().replace(second=0, microsecond=0) - timedelta(minutes=30)
    schedule = f"""\
        timezone: UTC
        handle: on-call-primary
        notify_handoff: true
        layers:
          - {{name: hourly, members: [alice, bob], rotation: 1h, start: "{_local(start)}"}}
        """
    config = write_config(tmp_path / "config", HANDOFF_ROUTES, {"schedules/primary.yaml": schedule})
    sink = WebhookSink()
    await sink.start()
    run: dict[str, Any] = {
        "sink": sink,
        "flaky": sink,
        "config_dir": config,
        "escalation_poll": 0.2,
        "clock": clock,
    }
    try:
        async for a in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
            async for _ in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, **run):
                await a.push(
                    {
                        "kind": "alert",
                        "title": "db down",
                        "dedup_key": "db-1",
                        "labels": {"team": "db"},
                    }
                )
                await delivery(a, await alert_of(a, "db-1"), "delivered")
                await asyncio.sleep(0.5)  # alice's shift began half an hour ago: no news
                assert [m["channel"] for m in slack_api.messages] == ["D0ALICE"]
                clock.skip(31 * 60)  # bob's shift has begun
                deadline = asyncio.get_running_loop().time() + 10
                while len(slack_api.messages) < 2:
                    assert asyncio.get_running_loop().time() < deadline, slack_api.messages
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.6)  # both replicas have polled again by now
        told = slack_api.messages[1:]
        assert [m["channel"] for m in told] == ["D0BOB"]
        assert "Your on-call shift for primary started" in told[0]["text"]
        assert "db down (triggered," in told[0]["text"]
    finally:
        await sink.stop()
