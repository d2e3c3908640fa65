"""The audit log: every alert action (allowed or refused), dead-letter retry and reload is one
row with who, how and from where; a config change activated by several workers is one row;
GET /api/v1/audit filters and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifierd.client import ApiClient, ApiError
from notifierd.store.audit import Action, AuditEntry, AuditLog, AuditSearch
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
  broken: {type: webhook, url: "${AUDIT_TEST_UNSET_URL}"}
settings:
  retry: {max_retries: 0, initial_delay: 50ms, multiplier: 2, max_delay: 1s, jitter: 0}
routes:
  - name: broken
    matchers: ['target="broken"']
    channels: [broken]
  - name: default
    channels: [sink]
producers:
  ci: {token: "${CI_TOKEN}"}
people:
  alice: {token: "${ALICE_TOKEN}", roles: [view, operate], contacts: [{email: alice@company.com}]}
"""


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("CI_TOKEN", "ci-token")
    monkeypatch.setenv("ALICE_TOKEN", "alice-token")
    monkeypatch.delenv("AUDIT_TEST_UNSET_URL", raising=False)
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", routes=ROUTES
    ):
        await r.push(
            {"id": "a-1", "kind": "alert", "action": "trigger", "dedup_key": "db", "title": "db"}
        )
        await r.push({"id": "dead-1", "title": "doomed", "labels": {"target": "broken"}})
        await r.status("a-1")
        await r.status("dead-1")
        yield r


async def test_actions_are_recorded_with_who_how_and_where(running: Running) -> None:
    async with (
        ApiClient(running.http_url, token="alice-token") as alice,
        ApiClient(running.http_url, token="ci-token") as ci,
    ):
        with pytest.raises(ApiError) as refused:  # ci opened nothing: it may not act
            await ci.acknowledge("db")
        assert refused.value.status == 403
        await alice.acknowledge("db", note="looking")
        await alice.resolve("db")
        await alice.retry_dead_letters(["dead-1"])
        rows = (await alice.audit())["entries"]
    seen = [(e["actor"], e["action"], e["outcome"]) for e in reversed(rows)]
    assert seen == [
        ("producer:ci", "acknowledge", "refused"),
        ("person:alice", "acknowledge", "done"),
        ("person:alice", "resolve", "done"),
        ("person:alice", "retry", "done"),
    ]
    ack = rows[2]
    assert ack["via"] == "http" and ack["origin"] == "127.0.0.1"
    assert ack["target"].startswith("db") or ack["target"]  # the alert's id
    assert ack["detail"] == {"note": "looking"}
    assert "reason" in rows[3]["detail"]
    assert rows[0]["detail"]["ids"] == ["dead-1"] and rows[0]["detail"]["deliveries"] == 1


async def test_filters_and_pages(running: Running) -> None:
    audit = AuditLog(running.store.pool)
    for n in range(7):
        await audit.record(AuditEntry(f"person:p{n % 2}", Action.SILENCE, "cli", f"s-{n}"))
    async with ApiClient(running.http_url, token="alice-token") as api:
        only = (await api.audit(actor="person:p1"))["entries"]
        assert [e["target"] for e in only] == ["s-5", "s-3", "s-1"]
        first = await api.audit(action="silence", limit=4)
        assert len(first["entries"]) == 4 and first["next_cursor"]
        rest = await api.audit(action="silence", limit=4, cursor=first["next_cursor"])
        assert rest["next_cursor"] is None
        targets = [e["target"] for e in first["entries"] + rest["entries"]]
        assert targets == [f"s-{n}" for n in range(6, -1, -1)]
        with pytest.raises(ApiError) as bad:
            await api.audit(action="dance")
        assert bad.value.status == 400


async def test_one_row_per_config_change_however_many_record_it(running: Running) -> None:
    audit = AuditLog(running.store.pool)
    entry = AuditEntry("notifierd", Action.RELOAD, "config-watch", "b", dedup="activated:a:b:1")
    assert await audit.record(entry)
    assert await audit.record(entry)  # a second worker: no error, no second row
    found = await audit.search(AuditSearch(action=Action.RELOAD, target="b"))
    assert len(found) == 1


async def test_a_config_change_is_recorded_once_with_both_snapshots(running: Running) -> None:
    before = str(running.daemon.snapshot())
    routes = running.config / "routes.yaml"
    routes.write_text(routes.read_text().replace("name: default", "name: everything"))
    assert await running.daemon.reload("test")
    assert not await running.daemon.reload("test")  # nothing changed: nothing recorded
    found = await AuditLog(running.store.pool).search(AuditSearch(action=Action.RELOAD))
    assert len(found) == 1
    assert found[0].via == "test" and found[0].actor == "notifierd"
    assert found[0].detail == {"from": before, "to": str(running.daemon.snapshot())}
