"""POST /api/v1/alertmanager and /api/v1/grafana on a real daemon: auth, bad input, commit
before the answer, idempotent re-sends, per-alert mode."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from notifierd.store.db import Store
from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
PRODUCERS = """\
producers:
  alertmanager:
    token: "${AM_TOKEN}"
people:
  victor:
    roles: [view]
    token: "${VICTOR_TOKEN}"
    contacts: [{email: victor@company.com}]
"""
AM = {"Authorization": "Bearer am-token"}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", "am-token")
    monkeypatch.setenv("VICTOR_TOKEN", "victor-token")
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES + PRODUCERS, http="127.0.0.1:0"
    ):
        yield r


async def _post(
    running: Running, path: str, body: Any, headers: dict[str, str] = AM
) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{running.http_url}{path}",
            data=data,
            headers={**headers, "Content-Type": "application/json"},
        ) as response,
    ):
        return response.status, await response.json()


async def _alerts(running: Running) -> list[Any]:
    return await running.store.pool.fetch(
        "SELECT id, dedup_key, title, severity, opened_by FROM alerts ORDER BY started_at"
    )


async def test_a_group_opens_one_alert_committed_before_the_answer(running: Running) -> None:
    status, body = await _post(running, "/api/v1/alertmanager", fixture("alertmanager_group.json"))
    assert status == 200, body
    assert body["queued"] == 3  # each firing alert, then the group's roster
    # Committed in Postgres by the time of the answer, as the sender's principal.
    rows = await running.store.pool.fetch(
        "SELECT w.id, p.principal FROM webhook_requests w "
        "JOIN request_principals p ON p.request_id = w.id WHERE w.queued_at IS NOT NULL"
    )
    assert sorted(r["id"] for r in rows) == sorted(body["requests"])
    assert {r["principal"] for r in rows} == {"producer:alertmanager"}
    # (The group's roster is refused: this producer has no queue of its own, so what it sends
    # acts as the anonymous producer, which may not speak in the alert's thread.)
    for request_id in body["requests"]:
        await running.status(request_id, until=("delivered", "joined", "routed", "refused"))
    await running.idle()
    [alert] = await _alerts(running)
    assert alert["dedup_key"] == 'am:{}:{alertname="DiskFull"}'
    assert alert["title"] == "Disk full on db-1" and alert["severity"] == "critical"
    assert alert["opened_by"] == "producer:alertmanager"

    # Alertmanager re-sends the group (repeat_interval): nothing is queued again.
    status, again = await _post(running, "/api/v1/alertmanager", fixture("alertmanager_group.json"))
    assert (status, again["queued"], again["requests"]) == (200, 0, body["requests"])
    await running.idle()
    assert len(await _alerts(running)) == 1
    assert await running.store.pool.fetchval("SELECT count(*) FROM requests") == 3


async def test_per_alert_mode_opens_one_alert_per_alert(running: Running) -> None:
    status, body = await _post(
        running, "/api/v1/alertmanager?per_alert=true", fixture("alertmanager_group.json")
    )
    assert (status, body["queued"]) == (200, 2)
    for request_id in body["requests"]:
        await running.status(request_id, until=("delivered",))
    assert sorted(a["dedup_key"] for a in await _alerts(running)) == [
        "am:1a2b3c4d5e6f7081@2026-11-30T03:00:00.123Z",
        "am:9f8e7d6c5b4a3928@2026-11-30T03:01:00Z",
    ]
    status, body = await _post(running, "/api/v1/alertmanager?per_alert=maybe", {})
    assert status == 400 and body["problems"] == ["per_alert: true or false"]


async def test_the_grafana_documentation_example_opens_one_alert(running: Running) -> None:
    status, body = await _post(running, "/api/v1/grafana", fixture("grafana_docs_example.json"))
    assert (status, body["queued"]) == (200, 3)
    await running.status(body["requests"][0], until=("delivered",))
    await running.idle()
    [alert] = await _alerts(running)
    assert alert["dedup_key"] == "grafana:{}:{}"
    assert alert["title"] == "This alert was triggered for zone us-1"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(version="3"), "version"),
        (lambda d: d["alerts"][0].pop("fingerprint"), "alerts[0].fingerprint"),
    ],
)
async def test_a_bad_payload_is_400_with_the_reason_and_queues_nothing(
    running: Running, change: Any, problem: str
) -> None:
    data = fixture("alertmanager_group.json")
    change(data)
    status, body = await _post(running, "/api/v1/alertmanager", data)
    assert status == 400
    assert any(p.startswith(problem) for p in body["problems"]), body
    assert await running.store.pool.fetchval("SELECT count(*) FROM webhook_requests") == 0


async def test_a_10_mb_body_is_413(running: Running) -> None:
    status, body = await _post(running, "/api/v1/alertmanager", b"[" + b" " * (10 << 20) + b"]")
    assert status == 413, body


async def test_only_a_producer_may_post(running: Running) -> None:
    data = fixture("alertmanager_group.json")
    status, _ = await _post(running, "/api/v1/alertmanager", data, headers={})
    assert status == 401
    viewer = {"Authorization": "Bearer victor-token"}
    status, body = await _post(running, "/api/v1/grafana", data, headers=viewer)
    assert (status, body["needs"]) == (403, "produce")


async def test_requests_redis_refused_are_queued_by_the_retry_and_nothing_twice(
    pg_url: str,
) -> None:
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    pushed: list[list[bytes]] = []

    async def refused(payloads: list[bytes]) -> None:
        raise ConnectionError("Redis is down")

    async def push(payloads: list[bytes]) -> None:
        pushed.append(payloads)

    requests = [("r1", '{"id":"r1"}'), ("r2", '{"id":"r2"}')]
    try:
        with pytest.raises(ConnectionError):
            await store.webhook_intake("alertmanager", requests, "producer:am", refused)
        # Committed all the same: the sender's retry finds them.
        assert await store.pool.fetchval("SELECT count(*) FROM webhook_requests") == 2
        assert await store.webhook_intake("alertmanager", requests, "producer:am", push) == 2
        assert await store.webhook_intake("alertmanager", requests, "producer:am", push) == 0
        assert [[json.loads(p)["id"] for p in batch] for batch in pushed] == [["r1", "r2"]]
    finally:
        await store.close()


@pytest.fixture
async def stormy(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("AM_TOKEN", "am-token")
    monkeypatch.setenv("VICTOR_TOKEN", "victor-token")
    default = "  - name: default\n    channels: [sink]\n"
    assert default in ROUTES
    routes = ROUTES.replace(default, default + "    max_new_alerts_per_minute: 2\n")
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=routes + PRODUCERS, http="127.0.0.1:0"
    ):
        yield r


def _storm(count: int) -> dict[str, Any]:
    data = fixture("alertmanager_group.json")
    template = data["alerts"][0]
    data["alerts"] = [
        {
            **template,
            "labels": {**template["labels"], "instance": f"db-{i}"},
            "annotations": {"summary": f"Disk full on db-{i}"},
            "fingerprint": f"{i:016x}",
        }
        for i in range(count)
    ]
    return data


async def test_past_the_routes_limit_new_alerts_fold_into_one_summary_alert(
    stormy: Running,
) -> None:
    status, body = await _post(stormy, "/api/v1/alertmanager?per_alert=true", _storm(5))
    assert (status, body["queued"]) == (200, 5)
    for request_id in body["requests"]:
        await stormy.status(request_id, until=("delivered", "joined"))
    await stormy.idle()
    rows = await stormy.store.pool.fetch(
        "SELECT dedup_key, title, occurrences FROM alerts ORDER BY started_at"
    )
    assert [r["title"] for r in rows] == [
        "Disk full on db-0",
        "Disk full on db-1",
        "Alert storm on route default: more than 2 new alerts a minute",
    ]
    assert (rows[2]["dedup_key"], rows[2]["occurrences"]) == ("storm:default", 3)
    # One page for the three folded alerts: five alerts, three messages.
    assert len(stormy.sink.bodies()) == 3
    # A re-send counts nothing again and changes nothing.
    status, again = await _post(stormy, "/api/v1/alertmanager?per_alert=true", _storm(5))
    assert (status, again["queued"]) == (200, 0)
    await stormy.idle()
    assert await stormy.store.pool.fetchval("SELECT sum(occurrences) FROM alerts") == 5


async def test_a_request_the_queue_lost_is_queued_again_by_a_resend(pg_url: str) -> None:
    """Redis keeps nothing on disk: a request queued long ago without an outcome was lost."""
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    pushed: list[str] = []

    async def push(payloads: list[bytes]) -> None:
        pushed.extend(json.loads(p)["id"] for p in payloads)

    requests = [("lost", '{"id":"lost"}'), ("done", '{"id":"done"}')]
    try:
        assert await store.webhook_intake("alertmanager", requests, None, push) == 2
        assert await store.webhook_intake("alertmanager", requests, None, push) == 0  # backlog
        await store.pool.execute("UPDATE webhook_requests SET queued_at = now() - interval '1h'")
        await store.pool.execute(
            "INSERT INTO requests (id, kind, outcome, payload) VALUES ('done', 'alert', 'routed', '{}')"
        )
        assert await store.webhook_intake("alertmanager", requests, None, push) == 1
        assert pushed == ["lost", "done", "lost"]
    finally:
        await store.close()
