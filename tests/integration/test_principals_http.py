"""Principals on a real daemon: bearer tokens, roles per route, who may close which alert, Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_http import SECRET, block_actions, signed

PRINCIPALS = """\
producers:
  ci:
    token: "${CI_TOKEN}"
  monitor:
    token: "${MONITOR_TOKEN}"
    roles: [produce, view]
    may_act_on: {routes: [flaky], producers: [ci]}
people:
  alice:
    roles: [operate]
    token: "${ALICE_TOKEN}"
    contacts: [{slack: "@U0ALICE"}]
  victor:
    roles: [view]
    token: "${VICTOR_TOKEN}"
    contacts: [{email: victor@company.com}]
  ada:
    roles: [admin]
    token: "${ADA_TOKEN}"
    contacts: [{email: ada@company.com}]
"""
TOKENS = {
    "NOTIFIERD_API_TOKEN": "glass",
    "CI_TOKEN": "ci",
    "MONITOR_TOKEN": "monitor",
    "ALICE_TOKEN": "alice",
    "VICTOR_TOKEN": "victor",
    "ADA_TOKEN": "ada",
}


async def _start(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_actions: str = "anyone",
) -> AsyncIterator[Running]:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    routes = ROUTES.replace("settings:\n", f"settings:\n  slack_actions: {slack_actions}\n")
    routes += PRINCIPALS
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", routes=routes
    ):
        yield r


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in _start(tmp_path, pg_url, redis_prefix, monkeypatch):
        yield r


@pytest.fixture
async def http(running: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=running.http_url) as session:
        yield session


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    http: aiohttp.ClientSession, method: str, path: str, token: str | None, **kwargs: Any
) -> tuple[int, Any]:
    headers = as_(token) if token else {}
    async with http.request(method, path, headers=headers, **kwargs) as resp:
        return resp.status, await resp.json()


async def test_each_route_needs_a_known_token_and_its_role(http: aiohttp.ClientSession) -> None:
    notify = ("POST", "/api/v1/notify", {"json": {"title": "t", "message": "m"}})
    reload = ("POST", "/-/reload", {})
    for method, path, kwargs in (notify, reload, ("GET", "/api/v1/requests/x", {})):
        for token in (None, "wrong"):
            status, body = await call(http, method, path, token, **kwargs)
            assert status == 401, (path, token)
            assert "bearer token" in body["error"]
    # produce: notify; people without it may not send.
    for token, expected in (("ci", 202), ("glass", 202), ("alice", 403), ("victor", 403)):
        status, body = await call(http, *notify[:2], token, **notify[2])
        assert status == expected, token
        if status == 403:
            assert body == {
                "error": "this token lacks the role this route needs: produce",
                "needs": "produce",
            }
    # admin: reload.
    for token, expected in (("ada", 200), ("glass", 200), ("alice", 403), ("ci", 403)):
        status, body = await call(http, "POST", "/-/reload", token)
        assert status == expected, token
    status, body = await call(http, "POST", "/-/reload", "alice")
    assert body["needs"] == "admin" and "alice" not in str(body)
    # operate (or a producer on its own alerts): ack; view alone may not.
    status, body = await call(http, "POST", "/api/v1/alerts/none/ack", "victor")
    assert (status, body["needs"]) == (403, "operate or produce")
    for open_path in ("/healthz", "/readyz", "/metrics"):
        async with http.get(open_path) as resp:
            assert resp.status == 200, open_path


async def test_a_producer_reads_its_own_requests_and_view_reads_any(
    running: Running, http: aiohttp.ClientSession
) -> None:
    status, body = await call(
        http, "POST", "/api/v1/notify", "ci", json={"title": "mine", "message": "m"}
    )
    assert status == 202
    rid = body["id"]
    await running.status(rid)
    assert (await call(http, "GET", f"/api/v1/requests/{rid}", "ci"))[0] == 200
    assert (await call(http, "GET", f"/api/v1/requests/{rid}", "victor"))[0] == 200
    assert (await call(http, "GET", f"/api/v1/requests/{rid}", "monitor"))[0] == 200  # view
    other = await running.push({"title": "from the queue"})
    await running.status(str(other))
    status, body = await call(http, "GET", f"/api/v1/requests/{other}", "ci")
    assert status == 404  # not its own: answered as unknown


async def _open(http: aiohttp.ClientSession, token: str, key: str, **fields: Any) -> str:
    request = {"kind": "alert", "title": key, "message": "m", "dedup_key": key, **fields}
    status, body = await call(http, "POST", "/api/v1/notify", token, json=request)
    assert status == 202, body
    return str(body["id"])


async def _alert(running: Running, key: str, status: str = "triggered") -> dict[str, Any]:
    alerts: Any = running.daemon.alerts
    found = None
    for _ in range(200):
        found = await alerts.store.show(key)
        if found is not None and found["status"] == status:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key} did not become {status}: {found}")


async def test_a_producer_closes_its_own_alerts_and_what_may_act_on_grants(
    running: Running, http: aiohttp.ClientSession
) -> None:
    await _open(http, "ci", "ci-alert")
    await _open(http, "monitor", "monitor-alert")
    await _open(http, "glass", "flaky-alert", labels={"target": "flaky"})
    assert (await _alert(running, "ci-alert"))["opened_by"] == "producer:ci"
    assert (await _alert(running, "monitor-alert"))["opened_by"] == "producer:monitor"
    assert (await _alert(running, "flaky-alert"))["routes"] == ["flaky"]

    status, body = await call(http, "POST", "/api/v1/alerts/monitor-alert/ack", "ci")
    assert status == 403
    assert body["reason"] == (
        "producer:ci may act only on alerts it opened or that its may_act_on grants"
    )
    assert (await _alert(running, "monitor-alert"))["status"] == "triggered"
    # Its own, with a "by" that names someone else: the actor stays the producer.
    status, body = await call(
        http, "POST", "/api/v1/alerts/ci-alert/ack", "ci", json={"by": "mallory"}
    )
    assert (status, body["acknowledged_by"]) == (200, "producer:ci")
    ack = next(e for e in body["timeline"] if e["kind"] == "acknowledged")
    assert ack["actor"] == "producer:ci" and "mallory" in ack["detail"]
    # monitor: by producer (ci's alert) and by route (flaky), but not an alert of neither.
    status, body = await call(http, "POST", "/api/v1/alerts/ci-alert/resolve", "monitor")
    assert (status, body["resolved_by"]) == (200, "producer:monitor")
    status, body = await call(http, "POST", "/api/v1/alerts/flaky-alert/resolve", "monitor")
    assert (status, body["resolved_by"]) == (200, "producer:monitor")
    await _open(http, "glass", "other-alert")
    assert (await _alert(running, "other-alert"))["opened_by"] == "api-token"
    assert (await call(http, "POST", "/api/v1/alerts/other-alert/ack", "monitor"))[0] == 403
    # People with operate act on any alert.
    status, body = await call(http, "POST", "/api/v1/alerts/other-alert/ack", "alice")
    assert (status, body["acknowledged_by"]) == (200, "person:alice")


async def test_the_default_queue_may_not_close_alerts(
    running: Running, http: aiohttp.ClientSession
) -> None:
    await running.push({"kind": "alert", "title": "db", "dedup_key": "db"})
    assert (await _alert(running, "db"))["opened_by"] == "anonymous"
    rid = await running.push(
        {"kind": "alert", "action": "resolve", "dedup_key": "db", "metadata": {"by": "alice"}}
    )
    status = await running.status(str(rid), until=("refused",))
    assert status is not None and status["status"] == "refused"
    assert "anonymous producer (the default queue) may not" in status["reason"]
    assert (await _alert(running, "db"))["status"] == "triggered"


async def test_a_slack_user_is_recorded_as_the_person_with_that_slack_id(
    running: Running, http: aiohttp.ClientSession
) -> None:
    await running.push({"kind": "alert", "title": "db", "dedup_key": "db"})
    alert = await _alert(running, "db")
    form = block_actions("notifierd_ack", str(alert["id"])).replace(b"U123", b"U0ALICE")
    async with http.post("/slack/interactions", data=form, headers=signed(form)) as resp:
        assert resp.status == 200
    assert (await _alert(running, "db", "acknowledged"))["acknowledged_by"] == "person:alice"


async def test_people_only_refuses_slack_users_who_are_not_operators(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in _start(
        tmp_path, pg_url, redis_prefix, monkeypatch, slack_actions="people_only"
    ):
        await running.push({"kind": "alert", "title": "db", "dedup_key": "db"})
        alert = await _alert(running, "db")
        async with aiohttp.ClientSession(base_url=running.http_url) as http:
            form = block_actions("notifierd_ack", str(alert["id"]))  # U123: nobody we know
            async with http.post("/slack/interactions", data=form, headers=signed(form)) as r:
                assert r.status == 200
            await asyncio.sleep(0.3)
            assert (await _alert(running, "db"))["status"] == "triggered"
            form = form.replace(b"U123", b"U0ALICE")
            async with http.post("/slack/interactions", data=form, headers=signed(form)) as r:
                assert r.status == 200
        assert (await _alert(running, "db", "acknowledged"))["acknowledged_by"] == "person:alice"
