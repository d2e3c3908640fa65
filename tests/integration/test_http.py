"""The HTTP listener of a real daemon (in-process, real Redis and Postgres), route by route."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from redis.asyncio import Redis

from notifierd.daemon import Daemon, Options
from notifierd.http.slack import signature
from notifierd.principals import Principal
from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.pg_fixtures import drop_database
from tests.integration.redis_fixtures import RedisPrefix

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documentation placeholder


def serve_with(running: Running, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """The HTTP listener sees these parts instead of the daemon's own, for this test."""
    daemon = running.daemon
    monkeypatch.setattr(daemon, "_services", dataclasses.replace(daemon.services, **changes))


class RecordingAlerts:
    """The alerts service's two-method protocol, recording each call (our interface, no I/O)."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def acknowledge(
        self, alert_id: str, actor: Principal, via: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        return self._record("acknowledge", alert_id, actor, via, kwargs, "acknowledged")

    async def resolve(
        self, alert_id: str, actor: Principal, via: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        return self._record("resolve", alert_id, actor, via, kwargs, "resolved")

    def _record(
        self,
        operation: str,
        alert_id: str,
        actor: Principal,
        via: str,
        kwargs: dict[str, Any],
        state: str,
    ) -> dict[str, Any] | None:
        self.calls.append((operation, alert_id, {"actor": actor.id, "via": via, **kwargs}))
        if alert_id not in self.known:
            return None
        return {"id": alert_id, "state": state, "by": actor.id}


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.delenv("NOTIFIERD_API_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0"):
        yield r


@pytest.fixture
async def http(running: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=running.http_url) as session:
        yield session


# -- health, readiness, metrics ------------------------------------------------------------------


async def test_healthz(http: aiohttp.ClientSession) -> None:
    async with http.get("/healthz") as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(http: aiohttp.ClientSession) -> None:
    async with http.get("/readyz") as resp:
        assert resp.status == 200
        assert await resp.json() == {
            "ready": True,
            "checks": {"redis": True, "postgres": True, "config": True},
        }


async def test_readyz_503_when_postgres_is_gone(
    running: Running, http: aiohttp.ClientSession, pg_url: str
) -> None:
    # A real outage of the daemon's database: dropped, its connections terminated.
    await drop_database(pg_url.rpartition("/")[2])
    async with http.get("/readyz") as resp:
        assert resp.status == 503
        assert await resp.json() == {
            "ready": False,
            "checks": {"redis": True, "postgres": False, "config": True},
        }


async def test_readyz_503_when_redis_does_not_answer(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real client to a port nothing listens on, in place of the daemon's for this one check.
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    serve_with(running, monkeypatch, redis=dead)
    try:
        async with http.get("/readyz") as resp:
            assert resp.status == 503
            assert (await resp.json())["checks"] == {
                "redis": False,
                "postgres": True,
                "config": True,
            }
    finally:
        await dead.aclose()


async def test_metrics_after_a_request(running: Running, http: aiohttp.ClientSession) -> None:
    rid = await running.push({"title": "counted"})
    assert rid is not None
    await running.status(rid)
    async with http.get("/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await resp.text()
    assert re.search(r'^notifierd_requests_total\{outcome="routed"\} \d', text, re.M), text
    assert re.search(r"^notifierd_queue_depth \d", text, re.M)


# -- reload --------------------------------------------------------------------------------------


async def test_reload_valid_then_unchanged(running: Running, http: aiohttp.ClientSession) -> None:
    before = running.daemon.services.holder.active.id
    (running.config / "routes.yaml").write_text(
        ROUTES.replace("channels: [flaky]", "channels: [sink]")
    )
    async with http.post("/-/reload") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["reloaded"] is True
    assert body["snapshot"]["id"] == running.daemon.services.holder.active.id != before
    async with http.post("/-/reload") as resp:
        assert resp.status == 200
        assert (await resp.json())["reloaded"] is False


async def test_reload_invalid_is_refused_with_locations(
    running: Running, http: aiohttp.ClientSession
) -> None:
    good = running.daemon.services.holder.active.id
    (running.config / "routes.yaml").write_text(
        ROUTES.replace("channels: [sink]", "channels: [nope]")
    )
    async with http.post("/-/reload") as resp:
        assert resp.status == 422
        body = await resp.json()
    assert body["error"].startswith("config is invalid")
    assert body["problems"], body
    assert all(re.match(r"routes\.yaml:\d+:\d+: ", p) for p in body["problems"]), body
    assert any("nope" in p for p in body["problems"])
    assert body["snapshot"]["id"] == good == running.daemon.services.holder.active.id


# -- intake and status ---------------------------------------------------------------------------


async def test_notify_is_delivered_through_the_queue(
    running: Running, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        "/api/v1/notify", json={"title": "Deployed", "message": "v2.1.0 is live"}
    ) as resp:
        assert resp.status == 202
        rid = (await resp.json())["id"]
    status = await running.status(rid)
    assert status["status"] == "delivered"
    [hit] = running.sink.received
    assert hit.json()["subject"] == "Deployed" and hit.json()["request_id"] == rid


async def test_notify_keeps_the_producers_id(running: Running, http: aiohttp.ClientSession) -> None:
    request = {"id": "deploy-42", "title": "t", "message": "m"}
    async with http.post("/api/v1/notify", json=request) as resp:
        assert resp.status == 202
        assert await resp.json() == {"id": "deploy-42"}
    assert (await running.status("deploy-42"))["status"] == "delivered"


@pytest.mark.parametrize(
    "body,expected",
    [
        (b'{"title": "x", "message": "y", "priority": "urgent"}', "'priority' must be one of"),
        (b'{"priority": "low"}', "at least one of 'title', 'message' or 'template'"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "the body is empty"),
        (b'{"title": "x", "message": "\\u0000"}', "NUL"),
    ],
)
async def test_notify_refuses_invalid_requests(
    running: Running, http: aiohttp.ClientSession, body: bytes, expected: str
) -> None:
    async with http.post(
        "/api/v1/notify", data=body, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        answer = await resp.json()
    assert answer["error"] == "invalid request"
    assert any(expected in p for p in answer["problems"]), answer
    assert await running.redis.redis.llen(running.queue) == 0


async def test_notify_refuses_oversize_bodies(
    running: Running, http: aiohttp.ClientSession
) -> None:
    big = json.dumps({"title": "x", "message": "y" * (1 << 20)}).encode()
    async with http.post("/api/v1/notify", data=big) as resp:
        assert resp.status == 413
        assert "1 MiB" in (await resp.json())["error"]
    assert await running.redis.redis.llen(running.queue) == 0


async def test_request_status(running: Running, http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/requests/never-sent") as resp:
        assert resp.status == 404
        assert (await resp.json())["id"] == "never-sent"
    rid = await running.push({"title": "look me up"})
    await running.status(rid)
    async with http.get(f"/api/v1/requests/{rid}") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body["id"] == rid and body["status"] == "delivered"
    assert [d["channel"] for d in body["deliveries"]] == ["sink"]


# -- bearer token --------------------------------------------------------------------------------


async def test_without_credentials_the_api_is_open_as_anonymous_local(
    running: Running, http: aiohttp.ClientSession
) -> None:
    async with http.post("/api/v1/notify", json={"title": "t", "message": "m"}) as resp:
        assert resp.status == 202
    async with http.post("/-/reload") as resp:
        assert resp.status == 200


# -- acknowledge / resolve -----------------------------------------------------------------------


async def test_alert_operations_need_the_alerts_service(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_with(running, monkeypatch, alerts=None)
    for op in ("ack", "resolve"):
        async with http.post(f"/api/v1/alerts/a1/{op}") as resp:
            assert resp.status == 503
            assert await resp.json() == {"error": "alerts are not enabled"}


async def test_acknowledge_and_resolve(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = RecordingAlerts(known={"a1"})
    serve_with(running, monkeypatch, alerts=alerts)
    async with http.post("/api/v1/alerts/a1/ack", json={"by": "alice"}) as resp:
        assert resp.status == 200
        # Who acts is the caller's principal (no credentials: anonymous-local), never "by".
        assert await resp.json() == {"id": "a1", "state": "acknowledged", "by": "anonymous-local"}
    async with http.post("/api/v1/alerts/a1/resolve", json={"note": "rolled back"}) as resp:
        assert resp.status == 200
    async with http.post("/api/v1/alerts/nope/ack") as resp:
        assert resp.status == 404
        assert await resp.json() == {"error": "no such alert", "id": "nope"}
    async with http.post("/api/v1/alerts/a1/ack", data=b'{"by": 7}') as resp:
        assert resp.status == 400
    actor = {"actor": "anonymous-local", "via": "http", "origin": "127.0.0.1"}
    assert alerts.calls == [
        ("acknowledge", "a1", {**actor, "note": "alice"}),
        ("resolve", "a1", {**actor, "note": "rolled back"}),
        ("acknowledge", "nope", {**actor, "note": None}),
    ]


async def test_acknowledge_and_resolve_a_real_alert(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_id = await running.push({"kind": "alert", "title": "DB down", "dedup_key": "db"})
    await _alert(running, "db", "triggered")
    async with http.post("/api/v1/alerts/db/ack", json={"by": "alice"}) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert (body["id"], body["status"], body["acknowledged_by"]) == (
        alert_id,
        "acknowledged",
        "anonymous-local",
    )
    # The same alert from a Slack button, named by its id this time.
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    form = block_actions("notifierd_resolve", str(alert_id))
    async with http.post("/slack/interactions", data=form, headers=signed(form)) as resp:
        assert resp.status == 200
    resolved = await _alert(running, "db", "resolved")
    assert resolved["resolved_by"] == "slack:U123"  # the Slack user, by id
    async with http.post("/api/v1/alerts/no-such-alert/resolve") as resp:
        assert resp.status == 404


async def _alert(running: Running, key: str, status: str) -> dict[str, Any]:
    alerts: Any = running.daemon.alerts
    found = None
    for _ in range(200):
        found = await alerts.store.show(key)
        if found is not None and found["status"] == status:
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key} did not become {status}: {found}")


# -- Slack interactivity -------------------------------------------------------------------------


def block_actions(action_id: str = "notifierd_ack", value: str = "a1") -> bytes:
    """A form body shaped like Slack's block_actions payload for a button press."""
    payload = {
        "type": "block_actions",
        "user": {"id": "U123", "username": "alice", "name": "alice", "team_id": "T1"},
        "api_app_id": "A1",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C42",
            "is_ephemeral": False,
        },
        "channel": {"id": "C42", "name": "incidents"},
        "message": {"ts": "1700000000.000100", "text": "DB down"},
        "response_url": "https://hooks.slack.com/actions/T1/1/xyz",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000001.000200",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, *, secret: str = SECRET, age: float = 0) -> dict[str, str]:
    timestamp = str(int(time.time() - age))
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_slack_button_acknowledges(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("NOTIFIERD_API_TOKEN", "t0ken")  # Slack's own signature is its auth
    alerts = RecordingAlerts(known={"a1"})
    serve_with(running, monkeypatch, alerts=alerts)
    body = block_actions("notifierd_ack", "a1")
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 200
        assert await resp.read() == b""
    body = block_actions("notifierd_resolve", "a1")
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 200
    slack = {
        "channel": "C42",
        "ts": "1700000000.000100",
        "response_url": "https://hooks.slack.com/actions/T1/1/xyz",
        "user": "U123",
    }
    by_slack = {"actor": "slack:U123", "via": "slack", "note": "alice", "context": {"slack": slack}}
    assert alerts.calls == [("acknowledge", "a1", by_slack), ("resolve", "a1", by_slack)]


async def test_slack_other_actions_are_ignored(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    alerts = RecordingAlerts(known={"a1"})
    serve_with(running, monkeypatch, alerts=alerts)
    body = block_actions("somebody_elses_button")
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 200
    body = b"payload=not-json"
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 400
        assert "payload" in (await resp.json())["error"]
    assert alerts.calls == []


async def test_slack_refuses_forged_and_replayed_requests(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    alerts = RecordingAlerts(known={"a1"})
    serve_with(running, monkeypatch, alerts=alerts)
    body = block_actions()
    forged = signed(body, secret="not-the-secret")
    tampered = signed(block_actions(value="a2"))
    replayed = signed(body, age=6 * 60)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers in (forged, tampered, replayed, unsigned):
        async with http.post("/slack/interactions", data=body, headers=headers) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"].startswith("invalid Slack request")
    async with http.post("/slack/interactions", data=body, headers=replayed) as resp:
        assert "5 minutes" in (await resp.json())["error"]
    assert alerts.calls == []


async def test_slack_without_a_signing_secret(http: aiohttp.ClientSession) -> None:
    body = block_actions()
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 503
        assert "SLACK_SIGNING_SECRET" in (await resp.json())["error"]


# -- errors --------------------------------------------------------------------------------------


async def test_unknown_route_and_wrong_method_are_json(http: aiohttp.ClientSession) -> None:
    async with http.get("/nope") as resp:
        assert resp.status == 404
        assert await resp.json() == {"error": "not found"}
    async with http.get("/api/v1/notify") as resp:
        assert resp.status == 405
        assert resp.headers["Allow"] == "POST"
        assert await resp.json() == {"error": "method GET not allowed"}


# -- the listen address --------------------------------------------------------------------------


async def test_a_bad_address_fails_before_connecting(tmp_path: Path) -> None:
    # Nothing listens on these URLs: the address is checked first, so they are never tried.
    options = Options(
        config_dir=tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        postgres_url="postgresql://nobody@127.0.0.1:1/none",
        http="not-an-address",
    )
    with pytest.raises(ValueError, match="--http expects HOST:PORT"):
        await Daemon(options).start()


async def test_a_port_in_use_stops_the_daemon_cleanly(
    running: Running,
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = running.http_url.removeprefix("http://")
    second = start_daemon(tmp_path / "second", pg_url, redis_prefix, monkeypatch, http=taken)
    with pytest.raises(OSError, match=f"cannot listen on {re.escape(taken)}"):
        await anext(second)
