"""Fallback on dead letter, through the running daemon: a Slack delivery that dies is sent by
e-mail instead, once, linked to it in the history, and ``notifierd status`` shows the chain."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifierd.active import Active
from notifierd.cli.main import _register, cli
from notifierd.pipeline.fallback import Died, fallback_deliveries
from notifierd.pipeline.outcome import request_payload
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.status import DeliveryStatus
from notifierd.store.db import Store
from notifierd.store.records import DeliveryRecord, RequestRecord, delivery_id
from notifierd.validation import load_valid
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp_server import SMTPServer
from tests.integration.daemon_harness import Running, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  retry: {max_retries: 2, initial_delay: 50ms, multiplier: 1, max_delay: 50ms, jitter: 0}
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    api_url: ${SLACK_URL}
    default_recipients: ["#ops"]
    fallback: [ops-email]
  ops-email:
    type: email
    host: 127.0.0.1
    port: ${SMTP_PORT}
    starttls: false
    from: notifier@company.com
    default_recipients: [ops@company.com]
    allow_recipients: ["*@company.com"]
    fallback: [sink]
  sink: {type: webhook, url: "${SINK_URL}"}
routes:
  - name: default
    channels: [ops-slack]
"""


@pytest.fixture
async def smtp() -> AsyncIterator[SMTPServer]:
    async with SMTPServer() as server:
        yield server


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
    smtp: SMTPServer,
) -> AsyncIterator[Running]:
    routes = ROUTES.replace("${SMTP_PORT}", str(smtp.port))
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, routes=routes):
        monkeypatch.setenv("POSTGRES_URL", pg_url)
        yield r


def by_channel(status: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {d["channel"]: d for d in status["deliveries"]}


async def test_a_permanent_failure_falls_back_to_email_linked_both_ways(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")

    rid = await running.push({"title": "Disk full", "message": "db-1 at 99%"})
    assert rid is not None
    status = await running.status(rid, until=("partial", "failed"))

    deliveries = by_channel(status)
    assert set(deliveries) == {"ops-slack", "ops-email"}
    dead, fallback = deliveries["ops-slack"], deliveries["ops-email"]
    assert dead["status"] == "dead" and "channel_not_found" in dead["error"]
    assert dead["attempts"] == 1  # permanent: no retries
    assert fallback["status"] == "delivered"
    assert fallback["recipient"] == "ops@company.com"  # the request names none: its defaults
    assert fallback["fallback_of"] == dead["id"] and dead["fallbacks"] == [fallback["id"]]
    assert fallback["id"] == str(delivery_id(rid, "ops-email", "ops@company.com"))
    assert fallback["note"].startswith("fallback of ops-slack #ops, which died: ")
    # The same request, rendered for e-mail.
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["ops@company.com"]
    assert mail.message["Subject"] == "Disk full"
    assert "db-1 at 99%" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert running.sink.received == []


async def test_the_requests_own_recipients_that_fit_and_may_go_there(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")

    rid = await running.push({"recipients": ["#ops", "dev@company.com", "someone@elsewhere.org"]})
    assert rid is not None
    status = await running.status(rid, until=("partial", "failed"))

    # ops-email allows *@company.com only: the other address gets nothing by fallback either.
    assert [m.rcpt_tos for m in smtp.messages] == [["dev@company.com"]]
    assert by_channel(status)["ops-email"]["recipient"] == "dev@company.com"


async def test_no_second_message_where_the_request_goes_anyway(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")

    rid = await running.push({"title": "Both", "channels": ["ops-slack", "ops-email"]})
    assert rid is not None
    status = await running.status(rid, until=("partial", "failed"))
    await asyncio.sleep(0.5)  # time for the retrier to send a fallback, were there one

    # ops@company.com has this request by e-mail already: the fallback adds nothing.
    assert [m.rcpt_tos for m in smtp.messages] == [["ops@company.com"]]
    assert by_channel(status)["ops-email"]["fallback_of"] is None


async def test_retries_spent_fall_back(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next(3, 503)

    rid = await running.push({"title": "Deploy failed"})
    assert rid is not None
    status = await running.status(rid, until=("partial", "failed"))

    dead, fallback = by_channel(status)["ops-slack"], by_channel(status)["ops-email"]
    assert dead["status"] == "dead" and dead["error"].startswith("gave up after 3 attempts")
    assert fallback["status"] == "delivered" and fallback["fallback_of"] == dead["id"]
    assert [m.message["Subject"] for m in smtp.messages] == ["Deploy failed"]


async def test_a_fallback_that_dies_does_not_fall_back_again(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")
    smtp.reject("ops@company.com")

    rid = await running.push({"title": "Nobody home"})
    assert rid is not None
    status = await running.status(rid, until=("failed",))

    deliveries = by_channel(status)
    # ops-email names sink as its own fallback, but a fallback delivery is one hop, the last.
    assert set(deliveries) == {"ops-slack", "ops-email"}
    assert deliveries["ops-email"]["status"] == "dead"
    assert deliveries["ops-email"]["fallback_of"] == deliveries["ops-slack"]["id"]
    assert deliveries["ops-email"]["fallbacks"] == []
    await asyncio.sleep(0.5)  # time for a second hop, were there one
    assert running.sink.received == []
    assert len((await running.store.request_status(rid) or {})["deliveries"]) == 2


async def test_a_replayed_request_sends_no_second_fallback(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")
    request = {"id": "replayed-1", "title": "Once", "message": "only once"}
    await running.push(request)
    first = await running.status("replayed-1", until=("partial", "failed"))

    await running.push(request)  # the producer retries, or the request is replayed
    await running.idle()
    await asyncio.sleep(0.5)  # time for the retrier to send a second fallback, were there one

    assert len(smtp.messages) == 1
    assert len(slack_api.posted()) == 0  # the dead Slack delivery is not tried again either
    again = await running.store.request_status("replayed-1")
    assert again is not None
    assert [(d["id"], d["status"]) for d in again["deliveries"]] == [
        (d["id"], d["status"]) for d in first["deliveries"]
    ]


async def test_status_shows_the_chain(
    running: Running, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    slack_api.fail_next_with("channel_not_found")
    rid = await running.push({"title": "Chained"})
    assert rid is not None
    await running.status(rid, until=("partial", "failed"))

    _register()
    text = await asyncio.to_thread(CliRunner().invoke, cli, ["status", rid])
    assert text.exit_code == 0, text.output
    [chain] = [line.strip() for line in text.output.splitlines() if "→" in line]
    assert chain == (
        "ops-slack #ops → dead (Slack chat.postMessage: channel_not_found) → fallback ops-email "
        "ops@company.com: delivered"
    )

    as_json = await asyncio.to_thread(CliRunner().invoke, cli, ["status", rid, "--format", "json"])
    data = json.loads(as_json.output)
    dead, fallback = by_channel(data)["ops-slack"], by_channel(data)["ops-email"]
    assert dead["fallbacks"] == [fallback["id"]] and fallback["fallback_of"] == dead["id"]


def dead_with_fallback(
    config: Path, request_id: str, recipient: str = "#ops"
) -> tuple[RequestRecord, DeliveryRecord]:
    """What the record stage writes when ops-slack's delivery of ``request_id`` dies: the
    request, and the dead delivery carrying its fallback."""
    active = Active.of(load_valid(config, with_git=False)[0])
    request = Request.from_dict({"id": request_id, "title": "Left behind", "message": "m"})
    dead = DeliveryRecord(
        request_id, "ops-slack", "slack", recipient, DeliveryStatus.DEAD, 1, "channel_not_found"
    )
    died = Died(dead.id, active.snapshot.channels["ops-slack"], recipient, None, dead.last_error)
    now = datetime.now(UTC)
    dead.fallbacks = fallback_deliveries(
        active, request, Renderer(active.catalog, request), died, now
    )
    record = RequestRecord(request_id, "notification", "routed", request_payload(request), now)
    return record, dead


async def test_a_fallback_on_record_is_sent_after_a_crash_once(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
    smtp: SMTPServer,
) -> None:
    config = write_config(tmp_path / "config", ROUTES.replace("${SMTP_PORT}", str(smtp.port)))
    monkeypatch.setenv("SINK_URL", "http://127.0.0.1:9/")
    record, dead = dead_with_fallback(config, "crashed-1")
    # The daemon died right after recording the dead letter: nothing was sent. A replay of the
    # same outcome (the request taken again) writes nothing new.
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    try:
        await store.write_batch([record], [dead])
        await store.write_batch([record], [dead])
    finally:
        await store.close()

    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, config_dir=config
    ):
        status = await running.status("crashed-1", until=("partial", "failed"))
        fallback = by_channel(status)["ops-email"]
        assert fallback["status"] == "delivered"
        assert fallback["fallback_of"] == str(dead.id)
        assert [m.rcpt_tos for m in smtp.messages] == [["ops@company.com"]]


async def test_no_fallback_for_a_delivery_on_record_as_delivered(
    tmp_path: Path, pg_url: str, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    """A stale outcome (a replica whose lease had ended, a late replay) that says dead, for a
    delivery already delivered, makes no fallback."""
    config = write_config(tmp_path / "config", ROUTES.replace("${SMTP_PORT}", str(smtp.port)))
    record, dead = dead_with_fallback(config, "delivered-1")
    delivered = DeliveryRecord(
        "delivered-1", "ops-slack", "slack", "#ops", DeliveryStatus.DELIVERED
    )
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    try:
        await store.write_batch([record], [delivered])
        await store.write_batch([record], [dead])
        status = await store.request_status("delivered-1")
    finally:
        await store.close()

    assert status is not None
    assert [(d["channel"], d["status"], d["fallbacks"]) for d in status["deliveries"]] == [
        ("ops-slack", "delivered", [])
    ]


async def test_two_dead_deliveries_share_one_fallback_to_the_same_address(
    tmp_path: Path, pg_url: str, slack_api: FakeSlackAPI, smtp: SMTPServer
) -> None:
    """#ops and #incidents both died: ops@company.com gets the message by e-mail once."""
    config = write_config(tmp_path / "config", ROUTES.replace("${SMTP_PORT}", str(smtp.port)))
    record, ops = dead_with_fallback(config, "shared-1")
    _, incidents = dead_with_fallback(config, "shared-1", recipient="#incidents")
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    try:
        await store.write_batch([record], [ops, incidents])
        status = await store.request_status("shared-1")
    finally:
        await store.close()

    assert status is not None
    deliveries = {(d["channel"], d["recipient"]): d for d in status["deliveries"]}
    fallback = deliveries["ops-email", "ops@company.com"]
    assert len(deliveries) == 3
    assert deliveries["ops-slack", "#ops"]["fallbacks"] == [fallback["id"]]
    assert deliveries["ops-slack", "#incidents"]["fallbacks"] == [fallback["id"]]
    assert fallback["status"] == "retrying"
