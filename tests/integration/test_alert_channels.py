"""An alert's lifecycle as PagerDuty and Slack see it: one incident, one thread, updated in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.pagerduty_api import DEFAULT_ROUTING_KEY, FakePagerDuty
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlackAPI
from tests.integration.daemon_harness import operator, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  pager: {type: pagerduty, routing_key: "${PD_KEY}", api_url: "${PD_URL}"}
  ops-slack: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", default_recipients: ["#ops"]}
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [pager, ops-slack]
  - name: default
    channels: [sink]
"""


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_trigger_ack_resolve_land_on_one_incident_and_one_thread(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    pagerduty, slack = FakePagerDuty(), FakeSlackAPI()
    await pagerduty.start()
    await slack.start()
    monkeypatch.setenv("PD_KEY", DEFAULT_ROUTING_KEY)
    monkeypatch.setenv("PD_URL", pagerduty.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_URL", slack.url)
    try:
        async for running in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES
        ):
            rid = await running.push(
                {
                    "kind": "alert",
                    "title": "Checkout down",
                    "message": "5xx everywhere",
                    "severity": "critical",
                    "dedup_key": "checkout",
                }
            )
            assert (await running.status(rid))["status"] == "delivered"
            incident = pagerduty.incident("checkout")
            assert (
                incident is not None
                and incident.status == "triggered"
                and incident.severity == "critical"
            )
            [original] = [m for m in slack.messages if "thread_ts" not in m]
            # No template on the route: the plain message still has the buttons, naming the alert.
            [actions] = [b for b in original["blocks"] if b["type"] == "actions"]
            assert {e["action_id"]: e["value"] for e in actions["elements"]} == {
                "notifierd_ack": rid,
                "notifierd_escalate": rid,
                "notifierd_resolve": rid,
            }

            await running.daemon.alerts.acknowledge("checkout", operator("alice"), "slack")
            await wait_for(lambda: pagerduty.incident("checkout").status == "acknowledged")
            # The Slack message says who acknowledged, in place; the news is also a thread reply.
            await wait_for(lambda: any(m.get("thread_ts") for m in slack.messages))
            reply = next(m for m in slack.messages if m.get("thread_ts"))
            assert reply["thread_ts"] == original["ts"]
            updates = [args for method, args in slack.calls if method == "chat.update"]
            assert len(updates) == 1 and updates[0]["ts"] == original["ts"]
            assert "Acknowledged by person:alice" in str(updates[0].get("blocks")) + str(
                updates[0].get("text")
            )

            await running.daemon.alerts.resolve("checkout", operator("bob"), "cli")
            await wait_for(lambda: pagerduty.incident("checkout").status == "resolved")
            # Resolving rewrites the original message again: who acknowledged, who resolved.
            await wait_for(lambda: len([c for c in slack.calls if c[0] == "chat.update"]) == 2)
            last = [args for method, args in slack.calls if method == "chat.update"][-1]
            assert last["ts"] == original["ts"]
            assert "Acknowledged by person:alice · Resolved by person:bob" in str(
                last.get("blocks")
            )
            assert "actions" not in [b["type"] for b in last["blocks"]]
            assert len({i.dedup_key for i in pagerduty.incidents}) == 1  # one incident all along
    finally:
        await pagerduty.stop()
        await slack.stop()


STEP_ROUTES = """\
channels:
  ops-slack: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}", default_recipients: ["#ops"]}
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [ops-slack]
    escalation: p
  - name: default
    channels: [sink]
"""


async def test_resolving_rewrites_every_slack_message_of_the_alert(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    """The route's message and a level's message to the same channel both lose their buttons."""
    slack = slack_api
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=STEP_ROUTES,
        files={"policies/p.yaml": "levels:\n  - {after: 0s, channels: [ops-slack]}\n"},
        escalation_poll=0.2,
    ):
        rid = await running.push(
            {"kind": "alert", "title": "Checkout down", "message": "x", "dedup_key": "co"}
        )
        await wait_for(lambda: len([m for m in slack.messages if "thread_ts" not in m]) == 2)
        originals = [m for m in slack.messages if "thread_ts" not in m]
        values = {
            e["value"]
            for m in originals
            for b in m["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        }
        assert values == {rid, f"{rid}:r1l1"}
        # Slack has both; the resolve rewrites what Postgres has recorded as delivered, so wait
        # for both records too (on a loaded machine the recorder may trail the fake by a beat).
        for sent in (rid, f"{rid}:r1l1"):
            found = await running.status(str(sent))
            assert found is not None and found["status"] == "delivered", found
        await running.daemon.alerts.resolve("co", operator("bob"), "cli")
        posted = {m["ts"] for m in originals}
        await wait_for(
            lambda posted=posted: {a["ts"] for m, a in slack.calls if m == "chat.update"} == posted
        )
