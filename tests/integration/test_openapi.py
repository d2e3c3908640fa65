"""The OpenAPI document against a running daemon: every operation in it is called with the
document's own examples and its answer checked against the schema it declares; the Python
client answers every operation too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from notifierd.client import ApiClient, ApiError
from notifierd.http import openapi
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  dedup_window: 1h
  retry: {max_retries: 1, initial_delay: 50ms, multiplier: 2, max_delay: 1s, jitter: 0}
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
  broken: {type: webhook, url: "${API_TEST_UNSET_URL}"}
  mail: {type: email, transport: smtp, host: 127.0.0.1, port: 2525, from: notifierd@company.com}
rate_limits:
  - {channel: sink, limit: 100, window: 1m}
routes:
  - name: broken
    matchers: ['target="broken"']
    channels: [broken]
  - name: paged
    matchers: ['severity="critical"']
    channels: [sink]
    escalation: pager
  - name: default
    channels: [sink]
people:
  alice: {contacts: [{email: alice@company.com}]}
  bob: {contacts: [{email: bob@company.com}]}
producers:
  backup: {token: "${BACKUP_TOKEN}"}
heartbeats:
  - {name: nightly-backup, interval: 1h, producer: backup}
calendar_feeds:
  console:
    token: "${FEED_TOKEN}"
    schedules: [primary]
    people: [alice]
"""
FILES = {
    "policies/pager.yaml": """\
        name: Pager
        levels:
          - {after: 0m, channels: [sink]}
          - {after: 1h, channels: [sink]}
    """,
    "schedules/primary.yaml": """\
        name: Primary
        timezone: Europe/Berlin
        layers:
          - {name: daily, members: [alice, bob], rotation: 1d, start: "2026-01-01T09:00"}
    """,
    "templates/deploy/1.0.yaml": """\
        description: A deployment
        variables:
          type: object
          required: [environment, version]
          properties:
            environment: {type: string}
            version: {type: string}
        examples:
          - {environment: production, version: v2.0.0}
        subject: "Deployed {{ version }} to {{ environment }}"
        text: "{{ version }} is live in {{ environment }}"
    """,
}
TOKENS = {"NOTIFIERD_API_TOKEN": "glass", "BACKUP_TOKEN": "backup", "FEED_TOKEN": "feed-secret"}
# Operations that need a token other than the break-glass one (which has every role).
OPERATION_TOKENS = {"beatHeartbeat": "backup"}
# Alert actions change the alert's state: called in this order, each finds the state it needs.
LAST = [
    "escalateAlert",
    "acknowledgeAlert",
    "resolveAlert",
    "retryDeadLetters",
    "searchAudit",
    # The document's examples name silence 1 and override 1: added first, then ended.
    "addSilence",
    "expireSilence",
    "addOverride",
    "removeOverride",
]


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("API_TEST_UNSET_URL", raising=False)
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        routes=ROUTES,
        files=FILES,
        escalation_poll=0.2,
    ):
        await _seed(r)
        yield r


async def _seed(r: Running) -> None:
    """A request delivered, an alert open (its first level fired), a dead letter."""
    await r.push({"id": "api-req-1", "title": "deploy finished", "message": "v2 is live"})
    await r.push(
        {
            "id": "api-alert-1",
            "kind": "alert",
            "action": "trigger",
            "dedup_key": "api-alert",
            "title": "db down",
            "severity": "critical",
        }
    )
    await r.push({"id": "api-dead-1", "title": "doomed", "labels": {"target": "broken"}})
    await r.status("api-req-1")
    await r.status("api-dead-1")
    await r.status("api-alert-1")


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(openapi.document_json())
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation), those that change state last, in LAST's order."""
    found = [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
    ]
    return sorted(
        found,
        key=lambda o: LAST.index(o[2]["operationId"]) + 1 if o[2]["operationId"] in LAST else 0,
    )


def _parameters(document: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    return [_resolved(document, p) for p in op.get("parameters", [])]


def _resolved(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in item:
        node: Any = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    # The schema with the document's components beside it: its "#/components/..." refs resolve.
    root = {**schema, "components": document["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


async def test_every_operation_answers_as_the_document_says(running: Running) -> None:
    document = _document()
    called = []
    async with aiohttp.ClientSession(base_url=running.http_url) as http:
        for method, path, op in _operations(document):
            url, query = path, {}
            for param in _parameters(document, op):
                if "example" not in param:
                    continue
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", str(param["example"]))
                else:
                    query[param["name"]] = str(param["example"])
            body = None
            if "requestBody" in op:
                content = _resolved(document, op["requestBody"])["content"]
                body = content["application/json"].get("example")
            token = OPERATION_TOKENS.get(op["operationId"], "glass")
            async with http.request(
                method,
                url,
                params=query,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                status, raw = resp.status, await resp.read()
                content_type = resp.content_type
            where = f"{op['operationId']} ({method} {url}): {status} {raw[:300]!r}"
            assert 200 <= status < 300, where
            declared = _resolved(document, op["responses"][str(status)])
            assert content_type in declared["content"], where
            schema = declared["content"][content_type]["schema"]
            answer = json.loads(raw) if content_type == "application/json" else raw.decode()
            errors = [e.message for e in _validator(document, schema).iter_errors(answer)]
            assert not errors, f"{where}: {errors}"
            called.append(op["operationId"])
    assert len(called) == sum(len(item) for item in document["paths"].values())


async def test_errors_answer_as_declared(running: Running) -> None:
    """A refusal is the Error shape with a status the operation declares."""
    document = _document()
    cases = [
        ("GET", "/api/v1/alerts/nope", "/api/v1/alerts/{id}", "get", 404),
        ("GET", "/api/v1/deliveries?status=lost", "/api/v1/deliveries", "get", 400),
        ("GET", "/api/v1/deliveries?cursor=xyz", "/api/v1/deliveries", "get", 400),
        ("GET", "/api/v1/deliveries?title=db", "/api/v1/deliveries", "get", 400),
        ("GET", "/api/v1/alerts/api-alert?timeline_limit=0", "/api/v1/alerts/{id}", "get", 400),
        ("GET", "/api/v1/alerts/api-alert?timeline_before=x", "/api/v1/alerts/{id}", "get", 400),
        ("GET", "/api/v1/alerts?limit=0", "/api/v1/alerts", "get", 400),
        ("POST", "/api/v1/templates/nope/render", "/api/v1/templates/{name}/render", "post", 404),
        ("GET", "/api/v1/silences?state=old", "/api/v1/silences", "get", 400),
        ("POST", "/api/v1/silences/77/expire", "/api/v1/silences/{id}/expire", "post", 404),
        ("POST", "/api/v1/overrides/77/remove", "/api/v1/overrides/{id}/remove", "post", 404),
    ]
    async with aiohttp.ClientSession(base_url=running.http_url) as http:
        for method, url, path, verb, expected in cases:
            async with http.request(method, url, headers={"Authorization": "Bearer glass"}) as resp:
                assert resp.status == expected, url
                body = await resp.json()
            declared = _resolved(
                document, document["paths"][path][verb]["responses"][str(expected)]
            )
            schema = declared["content"]["application/json"]["schema"]
            assert not list(_validator(document, schema).iter_errors(body)), (url, body)


async def test_reads_need_view_and_retry_needs_operate(running: Running) -> None:
    """A producer's token (produce only) is refused the console's views and actions."""
    async with ApiClient(running.http_url, token="backup") as api:
        for read in (api.alerts(), api.config(), api.dead_letters(), api.rate_limits()):
            with pytest.raises(ApiError) as refused:
                await read
            assert refused.value.status == 403
        with pytest.raises(ApiError) as refused:
            await api.retry_dead_letters(["api-dead-1"])
        assert refused.value.status == 403


async def test_deliveries_page_by_cursor_without_repeats(running: Running) -> None:
    for n in range(5):
        await running.push({"id": f"page-{n}", "title": f"Paged {n}"})
    for n in range(5):
        await running.status(f"page-{n}")
    async with ApiClient(running.http_url, token="glass") as api:
        seen: list[str] = []
        created: list[str] = []
        cursor = None
        pages = 0
        while True:
            page = await api.deliveries(title="paged", limit=2, cursor=cursor)
            seen += [d["request_id"] for d in page["deliveries"]]
            created += [d["created_at"] for d in page["deliveries"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        # Every delivery once; one batch may write several with one created_at, so the id
        # decides their order.
        assert sorted(seen) == [f"page-{n}" for n in range(5)]
        assert created == sorted(created, reverse=True)  # newest first across pages
        only = await api.deliveries(request_id="api-dead-1")
        assert [d["status"] for d in only["deliveries"]] == ["dead"]


async def test_console_views_show_the_seeded_state(running: Running) -> None:
    async with ApiClient(running.http_url, token="glass") as api:
        alerts = await api.alerts(state="triggered")
        assert [a["dedup_key"] for a in alerts] == ["api-alert"]
        shown = await api.alert("api-alert")
        assert shown["steps"][0]["level"] == 1
        dead = await api.dead_letters()
        assert [(d["request_id"], d["channel"]) for d in dead] == [("api-dead-1", "broken")]
        config = await api.config()
        assert config["channels_missing_secrets"] == [
            {"channel": "broken", "type": "webhook", "missing": ["API_TEST_UNSET_URL"]}
        ]
        assert config["last_reload"] is None
        limits = await api.rate_limits()
        assert [(s["key"], s["limit"]) for s in limits] == [("channel:sink", 100)]
        rendered = await api.render_template("deploy", {"version": "v3"}, example=1)
        assert rendered["context"] == {"environment": "production", "version": "v3"}
        assert "v3" in json.dumps(rendered["channels"]["slack"])
        with pytest.raises(ApiError) as refused:
            await api.render_template("deploy", {"version": "v3"})
        assert refused.value.status == 422  # alone, the context lacks environment


async def test_retry_requeues_a_dead_delivery(running: Running) -> None:
    async with ApiClient(running.http_url, token="glass") as api:
        assert await api.retry_dead_letters(["api-dead-1"]) == {"deliveries": 1, "requests": 0}
        assert await api.dead_letters() == []  # requeued: out of the queue until it dies again
        with pytest.raises(ApiError) as refused:
            await api.retry_dead_letters([])
        assert refused.value.status == 400


async def test_config_shows_a_refused_reload(running: Running) -> None:
    (running.config / "routes.yaml").write_text("channels: {}\nroutes: [{channels: [nope]}]\n")
    assert not await running.daemon.reload("test")
    async with ApiClient(running.http_url, token="glass") as api:
        config = await api.config()
    assert config["last_reload"]["outcome"] == "refused"
    assert any("nope" in p for p in config["last_reload"]["problems"])


async def test_the_client_covers_every_operation(running: Running) -> None:
    """One client call per operationId of the document, each answered 2xx."""
    document = _document()
    async with (
        ApiClient(running.http_url, token="glass") as api,
        ApiClient(running.http_url, token="backup") as backup,
    ):
        calls = {
            "openapi": api.openapi(),
            "notify": api.notify(title="from the client"),
            "alertmanager": api.alertmanager(_example(document, "/api/v1/alertmanager")),
            "grafana": api.grafana(_example(document, "/api/v1/grafana")),
            "beatHeartbeat": backup.beat("nightly-backup"),
            "showRequest": api.request("api-req-1"),
            "searchDeliveries": api.deliveries(channel="sink"),
            "listAlerts": api.alerts(),
            "showAlert": api.alert("api-alert"),
            "listDeadLetters": api.dead_letters(channel="broken"),
            "configStatus": api.config(),
            "rateLimits": api.rate_limits(),
            "renderTemplate": api.render_template("deploy@1.0"),
            "onCall": api.oncall(schedule="primary"),
            "scheduleFeed": api.schedule_feed("primary", "feed-secret"),
            "personFeed": api.person_feed("alice", "feed-secret"),
            "escalateAlert": api.escalate("api-alert"),
            "acknowledgeAlert": api.acknowledge("api-alert", note="on it"),
            "resolveAlert": api.resolve("api-alert"),
            "retryDeadLetters": api.retry_dead_letters(all_=True),
            "searchAudit": api.audit(action="acknowledge"),
            "listSilences": api.silences(recent=True),
            "listOverrides": api.overrides(schedule="primary"),
            "addSilence": api.silence(['service="client"'], "drill", duration="1h"),
            "expireSilence": api.expire_silence(1),
            "addOverride": api.override("primary", "bob", "cover", duration="2h"),
            "removeOverride": api.remove_override(1),
        }
        operation_ids = {
            op["operationId"] for item in document["paths"].values() for op in item.values()
        }
        assert set(calls) == operation_ids
        for name, call in calls.items():  # in order: the alert actions last
            try:
                await call
            except ApiError as exc:
                raise AssertionError(f"{name}: {exc.status} {exc}") from None
        await asyncio.sleep(0)


def _example(document: dict[str, Any], path: str) -> dict[str, Any]:
    example: dict[str, Any] = document["paths"][path]["post"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    return example
