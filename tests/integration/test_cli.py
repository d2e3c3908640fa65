"""The operator's CLI against a running daemon: send, status, history, metrics, dlq, channel test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from notifierd import metrics
from notifierd.cli.main import _register, cli
from notifierd.request import Request
from notifierd.routing.router import Router
from notifierd.store.audit import Action, AuditLog, AuditSearch
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch):
        monkeypatch.setenv("REDIS_URL", redis_prefix.url)
        monkeypatch.setenv("POSTGRES_URL", pg_url)
        monkeypatch.setenv("NOTIFIERD_QUEUE", r.queue)
        yield r


async def invoke(*args: str) -> Result:
    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_send_then_status_history_and_metrics(running: Running) -> None:
    sent = await invoke(
        "send",
        "--title",
        "From CLI",
        "--message",
        "hello",
        "--tag",
        "cli",
        "--label",
        "team=ops",
        "--wait",
        "10",
        "--format",
        "json",
    )
    assert sent.exit_code == 0, sent.output
    # One JSON line as soon as it is queued, one with the outcome: the same object.
    queued, outcome = (json.loads(line) for line in sent.stdout.splitlines())
    rid = queued["id"]
    assert queued == {"id": rid, "queue": running.queue, "status": None}
    assert outcome["id"] == rid and outcome["status"]["status"] == "delivered"
    status = await invoke("status", rid, "--format", "json")
    data = json.loads(status.output)
    assert data["status"] == "delivered"
    assert [(d["channel"], d["status"], d["attempts"], d["error"]) for d in data["deliveries"]] == [
        ("sink", "delivered", 1, None)
    ]
    history = await invoke("history", "--hours", "1", "--channel", "sink", "--format", "json")
    assert [r["request_id"] for r in json.loads(history.output)] == [rid]
    metrics = await invoke("metrics", "--since", "1h", "--format", "json")
    assert json.loads(metrics.output)["totals"]["delivered"] == 1
    missing = await invoke("status", "nope")
    assert missing.exit_code == 1 and "no request 'nope'" in missing.output


async def test_send_refuses_an_invalid_request(running: Running) -> None:
    result = await invoke("send", "--priority", "low")
    assert result.exit_code == 1
    assert "a request needs at least one of 'title', 'message' or 'template'" in result.output


async def test_send_wait_shows_why_a_channel_type_with_no_channel_is_rejected(
    running: Running,
) -> None:
    # The test config has webhook channels only, none of them default: true for teams.
    result = await invoke("send", "--title", "t", "--channel", "teams", "--wait", "10")
    assert result.exit_code == 0, result.output
    assert "status: rejected" in result.output
    assert (
        "reason: no channel of type teams: the routes chose none and no teams channel is "
        "default: true"
    ) in result.output
    assert running.sink.received == []  # rejected whole: nothing went out


async def test_send_takes_a_title_alone(running: Running) -> None:
    """The README's alert example: an alert is often just a title."""
    result = await invoke("send", "--kind", "alert", "--title", "DB down", "--dedup-key", "db")
    assert result.exit_code == 0, result.output
    rid = result.output.split()[-1]
    found = await running.status(rid)
    assert found is not None and found["status"] == "delivered", found


async def test_dlq_list_and_retry(running: Running) -> None:
    running.flaky.status = 404
    rid = await running.push({"labels": {"target": "flaky"}})
    await running.status(rid)
    listed = await invoke("dlq", "list", "--format", "json")
    [row] = json.loads(listed.output)
    assert row["request_id"] == rid and "404" in row["error"]
    running.flaky.status = 200
    retried = await invoke("dlq", "retry", rid)
    assert retried.exit_code == 0 and "requeued 1 delivery" in retried.output, (
        retried.output,
        retried.exception,
    )
    deadline = asyncio.get_running_loop().time() + 10
    while (await running.store.request_status(rid))["status"] != "delivered":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    assert json.loads((await invoke("dlq", "list", "--format", "json")).output) == []
    [entry] = await AuditLog(running.store.pool).search(AuditSearch(action=Action.RETRY))
    assert entry.actor.startswith("cli:") and entry.via == "cli" and entry.target == rid
    assert entry.detail["deliveries"] == 1


async def test_a_request_whose_processing_fails_is_dead_lettered_whole_and_replayable(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug (here: routing raises for one request) is neither retried forever nor lost: the
    request is recorded `error`, listed in the dead-letter queue, counted, and `dlq retry`
    puts it back on its queue, where (the bug fixed) it is delivered."""
    route = Router.route
    broken = True

    def route_with_a_bug(self: Router, request: Request, now: Any, *more: Any) -> Any:
        if broken and request.title == "hits the bug":
            raise KeyError("a bug in routing")
        return route(self, request, now, *more)

    monkeypatch.setattr(Router, "route", route_with_a_bug)
    dead_before = metrics.DEAD_REQUESTS._value.get()
    rid = await running.push({"title": "hits the bug"})
    assert rid is not None
    status = await running.status(rid)
    assert status["status"] == "error"
    assert status["reason"] == "internal error: KeyError: 'a bug in routing'"
    assert metrics.DEAD_REQUESTS._value.get() == dead_before + 1
    await running.idle()  # out of Redis: its outcome is durable
    listed = json.loads((await invoke("dlq", "list", "--format", "json")).output)
    assert [(r["kind"], r["request_id"], r["delivery_id"]) for r in listed] == [
        ("request", rid, None)
    ]
    assert "a bug in routing" in listed[0]["error"]
    assert (await invoke("dlq", "list")).exit_code == 0  # the table has a row for it too

    broken = False
    retried = await invoke("dlq", "retry", rid)
    assert retried.exit_code == 0, (retried.output, retried.exception)
    assert "put 1 request back on the queue" in retried.output
    deadline = asyncio.get_running_loop().time() + 10
    while (await running.store.request_status(rid))["status"] != "delivered":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)
    assert [b["request_id"] for b in running.sink.bodies()] == [rid]
    assert json.loads((await invoke("dlq", "list", "--format", "json")).output) == []


async def test_channel_test_sends_a_real_message(running: Running) -> None:
    ok = await invoke("channel", "test", "sink", "--config", str(running.config))
    assert ok.exit_code == 0 and ok.output.startswith("ok: delivered to its configured target")
    assert running.sink.bodies()[-1]["subject"] == "notifierd test: sink"
    running.flaky.status = 403
    failed = await invoke("channel", "test", "flaky", "--config", str(running.config))
    assert failed.exit_code == 1 and "failed (permanent)" in failed.output
    unknown = await invoke("channel", "test", "nope", "--config", str(running.config))
    assert unknown.exit_code == 2


LONG_ID = "deploy-2026-11-30-platform-team-with-a-very-long-request-identifier-0001"
LONG_TITLE = "Deployment of checkout-service v2.31.7 to production-eu-west-1\tfinished"


def tsv(output: str) -> tuple[list[str], list[list[str]]]:
    """A piped table: its header row and its rows, split on tabs."""
    header, *rows = output.splitlines()
    return header.split("\t"), [row.split("\t") for row in rows]


async def test_every_listing_command_pipes_whole_rows_and_parses_as_json(
    running: Running,
) -> None:
    """CliRunner is not a terminal: each table is a header row and tab-separated rows whose
    values are never cut (ids, titles, errors), and each listing command's --format json
    parses."""
    await running.push({"id": LONG_ID, "title": LONG_TITLE, "kind": "alert", "dedup_key": "co"})
    await running.status(LONG_ID)
    running.flaky.status = 404
    dead = await running.push({"labels": {"target": "flaky"}, "title": LONG_TITLE})
    await running.status(dead)

    history = await invoke("history", "--hours", "1")
    assert history.exit_code == 0, history.output
    header, rows = tsv(history.output)
    assert header == [
        "when",
        "request",
        "title",
        "channel",
        "recipient",
        "status",
        "attempts",
        "error",
    ]
    mine = next(row for row in rows if row[1] == LONG_ID)
    # A tab inside a value is a space: the columns stay where the header says.
    assert mine[2:6] == [LONG_TITLE.replace("\t", " "), "sink", "-", "delivered"]

    status = await invoke("status", LONG_ID)
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    assert lines[0].startswith(f"request {LONG_ID} (alert): delivered")
    at = lines.index("channel\trecipient\tstatus\tattempts\tlatency ms\ttemplate\terror / note")
    assert lines[at + 1].split("\t")[:4] == ["sink", "-", "delivered", "1"]

    dlq = await invoke("dlq", "list")
    assert dlq.exit_code == 0, dlq.output
    header, [row] = tsv(dlq.output)
    assert header[:3] == ["kind", "delivery", "request"]
    assert row[2] == dead and row[4] == "flaky" and "404" in row[8]

    metrics = await invoke("metrics", "--since", "1h")
    lines = metrics.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("channel\ttype\ttotal"))
    assert {line.split("\t")[0] for line in lines[at + 1 :]} == {"sink", "flaky"}

    alerts = await invoke("alerts", "list")
    header, [row] = tsv(alerts.output)
    assert header[:4] == ["id", "dedup key", "status", "title"]
    assert row[:4] == [LONG_ID, "co", "triggered", LONG_TITLE.replace("\t", " ")]
    shown = await invoke("alerts", "show", "co")
    assert shown.exit_code == 0, shown.output
    assert "at\tevent\tby\tvia\tdetail" in shown.output.splitlines()

    for command in (
        ["history", "--hours", "1"],
        ["status", LONG_ID],
        ["dlq", "list"],
        ["metrics", "--since", "1h"],
        ["alerts", "list"],
        ["alerts", "show", "co"],
    ):
        result = await invoke(*command, "--format", "json")
        assert result.exit_code == 0, (command, result.output)
        assert json.loads(result.stdout), command
