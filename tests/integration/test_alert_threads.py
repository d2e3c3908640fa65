"""An Alertmanager group as one Slack thread: its first message, then one reply per change of
its alerts, nothing for a re-send, and the resolve follow-up when the last one resolves."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  ops-slack: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", default_recipients: ["#ops"]}
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [ops-slack, sink]
  - name: default
    channels: [sink]
producers:
  alertmanager:
    token: "${AM_TOKEN}"
    queue: true  # its own queue: the group's resolve acts as the producer that opened it
  anonymous:
    may_act_on: {producers: [anonymous]}  # the default queue updates the alerts it opened
"""
AM = {"Authorization": "Bearer am-token", "Content-Type": "application/json"}
DONE = ("delivered", "joined", "updated", "unchanged", "ignored", "resolved", "failed")


def member(fingerprint: str, instance: str, status: str = "firing") -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "DiskFull", "instance": instance, "severity": "critical"},
        "annotations": {"summary": "Disks filling up"},
        "startsAt": "2026-11-30T03:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }


def group(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing" if firing else "resolved",
        "receiver": "notifierd",
        "alerts": list(alerts),
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {"alertname": "DiskFull"},
        "commonAnnotations": {"summary": "Disks filling up"},
    }


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", "am-token")
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES, http="127.0.0.1:0"
    ):
        yield r


async def post(running: Running, payload: dict[str, Any]) -> list[str]:
    """Post to the Alertmanager receiver; wait until what it queued is processed."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.http_url}/api/v1/alertmanager", data=json.dumps(payload), headers=AM
        ) as response,
    ):
        assert response.status == 200, await response.text()
        body = await response.json()
    for request_id in body["requests"]:
        await running.status(request_id, until=DONE)
    await running.idle()
    return [str(r) for r in body["requests"]] if body["queued"] else []


def said(message: dict[str, Any]) -> str:
    return str(message.get("text"))


async def test_a_group_is_one_thread_updated_once_per_change(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    db1, db2 = member("f1", "db-1"), member("f2", "db-2")

    await post(running, group(db1))
    [first] = slack_api.messages
    assert "thread_ts" not in first

    # A second alert joins the group: one reply, in the first message's thread.
    await post(running, group(db1, db2))
    [joined] = slack_api.messages[1:]
    assert joined["thread_ts"] == first["ts"]
    assert "2 of 2 alerts firing: +DiskFull on db-2" in said(joined)
    # The other places told hear it too, as they hear an acknowledgement.
    assert sum("2 of 2 alerts firing" in json.dumps(b) for b in running.sink.bodies()) == 1

    # Alertmanager re-sends the group on its repeat interval: nothing to say.
    assert await post(running, group(db1, db2)) == []
    assert len(slack_api.messages) == 2
    # Nobody else speaks in the group's thread: the default queue did not open it.
    spoof = await running.push(
        {
            "kind": "alert",
            "action": "update",
            "dedup_key": 'am:{}:{alertname="DiskFull"}',
            "members": [{"key": "x", "title": "all clear", "status": "resolved"}],
        }
    )
    assert spoof is not None
    refused = await running.status(spoof, until=("refused", *DONE))
    assert refused["status"] == "refused", refused
    assert len(slack_api.messages) == 2

    # One alert resolves while the other fires: one reply in the thread; its re-send, nothing.
    partly = group(member("f1", "db-1", "resolved"), db2)
    await post(running, partly)
    await post(running, copy.deepcopy(partly))
    [resolved_one] = slack_api.messages[2:]
    assert resolved_one["thread_ts"] == first["ts"]
    assert "1 of 2 alerts firing: resolved: DiskFull on db-1" in said(resolved_one)

    # The last one resolves: the alert resolves, told as ever, in the thread.
    await post(running, group(member("f1", "db-1", "resolved"), member("f2", "db-2", "resolved")))
    [over] = slack_api.messages[3:]
    assert over["thread_ts"] == first["ts"]
    assert "Resolved: Disks filling up" in said(over)
    status = await running.store.pool.fetchval("SELECT status FROM alerts")
    assert status == "resolved"
    timeline = await running.store.pool.fetch(
        "SELECT kind, detail FROM alert_events WHERE kind = 'updated' ORDER BY at, id"
    )
    assert [r["detail"] for r in timeline] == [
        "2 of 2 alerts firing: +DiskFull on db-2",
        "1 of 2 alerts firing: resolved: DiskFull on db-1",
    ]


async def test_any_producer_updates_its_open_alert_and_an_update_never_opens_one(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    roster = [{"key": "web-1", "title": "web-1 down", "status": "firing"}]
    opened = await running.push(
        {"kind": "alert", "title": "Web down", "dedup_key": "web", "members": roster}
    )
    assert opened is not None
    await running.status(opened, until=DONE)
    [first] = slack_api.messages

    more = [*roster, {"key": "web-2", "title": "web-2 down", "status": "firing"}]
    update = {"kind": "alert", "action": "update", "dedup_key": "web", "members": more}
    rid = await running.push(update)
    assert rid is not None
    found = await running.status(rid, until=DONE)
    assert found["status"] == "updated", found
    [reply] = slack_api.messages[1:]
    assert reply["thread_ts"] == first["ts"] and "+web-2 down" in said(reply)

    # The same roster again changes nothing; a roster for no open alert opens nothing.
    again = await running.push(update)
    assert again is not None
    assert (await running.status(again, until=DONE))["status"] == "unchanged"
    stray = await running.push({**update, "dedup_key": "nothing-open"})
    assert stray is not None
    assert (await running.status(stray, until=DONE))["status"] == "ignored"
    assert len(slack_api.messages) == 2
    assert await running.store.pool.fetchval("SELECT count(*) FROM alerts") == 1


async def test_one_payload_with_several_changes_is_one_reply(
    running: Running, slack_api: FakeSlackAPI
) -> None:
    await post(running, group(member("f1", "db-1")))
    [first] = slack_api.messages
    # Two alerts join and one resolves in one notification of the group: one reply says all.
    changed = group(member("f1", "db-1", "resolved"), member("f2", "db-2"), member("f3", "db-3"))
    assert len(await post(running, changed)) == 3  # two triggers and the group's roster
    [reply] = slack_api.messages[1:]
    assert reply["thread_ts"] == first["ts"]
    assert (
        "2 of 3 alerts firing: +DiskFull on db-2; +DiskFull on db-3; resolved: DiskFull on db-1"
        in said(reply)
    )
