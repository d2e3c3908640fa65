"""PagerDuty sender: Events API v2 events to a local Events API, failures classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from notifierd.channels import Delivered, Failed, create_sender
from notifierd.channels.pagerduty import PagerDutySender, event_for
from tests.fakes import make_channel, make_outbound, unused_port
from tests.fakes.pagerduty_api import DEFAULT_ROUTING_KEY, FakePagerDuty

NOW = 1_700_000_000.0
ENV = {"PAGERDUTY_ROUTING_KEY": DEFAULT_ROUTING_KEY}
ALERT = {
    "id": "req-trigger",
    "kind": "alert",
    "severity": "critical",
    "source": "prometheus",
    "dedup_key": "db-down",
    "tags": ["db"],
    "labels": {"service": "db"},
    "metadata": {"runbook": "https://wiki/db"},
}


@pytest.fixture
async def pd() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


def pager(url: str, **settings: object):
    return make_channel(
        "pager",
        "pagerduty",
        **{"routing_key": "${PAGERDUTY_ROUTING_KEY}", "api_url": url, "timeout": "2s", **settings},
    )


async def send(channel, request: dict[str, Any], env=ENV, **kwargs) -> Delivered | Failed:
    sender = create_sender(channel, env, clock=lambda: NOW)
    try:
        return await sender.send(make_outbound(channel, request=request, **kwargs))
    finally:
        await sender.close()


async def test_trigger_acknowledge_resolve_land_on_one_incident(pd: FakePagerDuty) -> None:
    channel = pager(pd.url)
    steps = [
        {**ALERT, "id": "req-1", "action": "trigger"},
        {**ALERT, "id": "req-2", "action": "acknowledge"},
        {**ALERT, "id": "req-3", "action": "resolve"},
    ]

    results = [await send(channel, step) for step in steps]

    assert all(isinstance(r, Delivered) and r.provider_id == "db-down" for r in results)
    [incident] = pd.incidents
    assert incident.dedup_key == "db-down"
    assert incident.status == "resolved"
    assert incident.actions == ["trigger", "acknowledge", "resolve"]
    assert incident.summary == "Deployment Complete: production"
    ack, resolve = pd.events[1], pd.events[2]
    # Follow-up events carry only what the API reads.
    assert set(ack) == {"routing_key", "event_action", "dedup_key"}
    assert set(resolve) == {"routing_key", "event_action", "dedup_key"}


async def test_an_alert_update_lands_on_its_open_incident_as_a_trigger(pd: FakePagerDuty) -> None:
    channel = pager(pd.url)
    await send(channel, {**ALERT, "id": "req-1", "action": "trigger"})
    result = await send(channel, {**ALERT, "id": "req-1:update", "action": "update"})

    assert isinstance(result, Delivered) and result.provider_id == "db-down"
    [incident] = pd.incidents  # the same incident, no second page
    assert (incident.status, incident.actions) == ("triggered", ["trigger", "trigger"])


async def test_trigger_event_fields(pd: FakePagerDuty) -> None:
    channel = pager(pd.url, component="postgres", group="prod-db", **{"class": "availability"})
    request = {**ALERT, "attachments": [{"filename": "graph", "url": "https://grafana/d/1"}]}

    result = await send(channel, request)

    assert isinstance(result, Delivered)
    [event] = pd.events
    assert event["routing_key"] == DEFAULT_ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "db-down"
    assert event["links"] == [{"href": "https://grafana/d/1", "text": "graph"}]
    payload = event["payload"]
    assert payload["summary"] == "Deployment Complete: production"
    assert payload["source"] == "prometheus"
    assert payload["severity"] == "critical"
    assert payload["timestamp"] == "2023-11-14T22:13:20Z"
    assert payload["component"] == "postgres"
    assert payload["group"] == "prod-db"
    assert payload["class"] == "availability"
    assert payload["custom_details"] == {
        "text": "Version: v2.1.0\nDeployed by: Alice",
        "labels": {"service": "db"},
        "metadata": {"runbook": "https://wiki/db"},
        "request_id": "req-trigger",
        "tags": ["db"],
    }


async def test_a_notification_triggers_with_its_id_as_dedup_key(pd: FakePagerDuty) -> None:
    result = await send(pager(pd.url, source="backup-host"), {"id": "req-77", "source": "cron"})

    assert isinstance(result, Delivered) and result.provider_id == "req-77"
    [event] = pd.events
    assert event["event_action"] == "trigger"
    assert event["payload"]["source"] == "backup-host"  # the channel's setting wins


@pytest.mark.parametrize(
    ("fields", "severity"),
    [
        ({"severity": "critical"}, "critical"),
        ({"severity": "error"}, "error"),
        ({"severity": "warning", "priority": "critical"}, "warning"),
        ({"severity": "info"}, "info"),
        ({"priority": "critical"}, "critical"),
        ({"priority": "high"}, "error"),
        ({"priority": "medium"}, "warning"),
        ({"priority": "low"}, "info"),
        ({}, "info"),
    ],
)
async def test_severity_mapping(pd: FakePagerDuty, fields: dict[str, str], severity: str) -> None:
    result = await send(pager(pd.url), {"id": "req-sev", **fields})

    assert isinstance(result, Delivered)
    assert pd.events[0]["payload"]["severity"] == severity
    assert pd.incidents[0].severity == severity


async def test_override_resolves_an_alert_triggered_by_another_request(pd: FakePagerDuty) -> None:
    channel = pager(pd.url)
    first = await send(channel, {"id": "req-first", "kind": "alert"})  # no dedup_key: its id
    assert isinstance(first, Delivered) and first.provider_id == "req-first"
    sender = create_sender(channel, ENV)
    assert isinstance(sender, PagerDutySender)
    later = make_outbound(channel, request={"id": "req-later", "kind": "alert"})

    result = await sender.send_event(event_for(later, "resolve", "req-first"))
    await sender.close()

    assert isinstance(result, Delivered)
    [incident] = pd.incidents
    assert incident.status == "resolved"
    assert "routing_key" not in event_for(later, "resolve", "req-first")


async def test_invalid_event_is_permanent_with_the_apis_errors(pd: FakePagerDuty) -> None:
    # The sender always fills summary, source and severity; an event the alerts code builds
    # by hand can still be wrong, and PagerDuty's own error list must reach the reason.
    channel = pager(pd.url)
    event = event_for(make_outbound(channel, request=ALERT), now=NOW)
    event["payload"] = {**event["payload"], "summary": "", "severity": "urgent"}
    sender = create_sender(channel, ENV)
    assert isinstance(sender, PagerDutySender)

    result = await sender.send_event(event)
    await sender.close()

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 400
    assert "Event object is invalid: 'payload.summary' is missing or blank" in result.reason
    assert "'payload.severity' must be one of" in result.reason
    assert pd.incidents == []


async def test_unknown_routing_key_is_permanent_and_never_echoed(pd: FakePagerDuty) -> None:
    wrong = "WR0NGKEY0123456789ABCDEFGHIJKLMN"

    result = await send(pager(pd.url), ALERT, env={"PAGERDUTY_ROUTING_KEY": wrong})

    assert isinstance(result, Failed) and not result.transient
    assert "Invalid routing key" in result.reason
    assert "${PAGERDUTY_ROUTING_KEY}" in result.reason
    assert wrong not in result.reason


async def test_malformed_routing_key_is_permanent(pd: FakePagerDuty) -> None:
    result = await send(pager(pd.url), ALERT, env={"PAGERDUTY_ROUTING_KEY": "u+short-key"})

    assert isinstance(result, Failed) and not result.transient
    assert "should be 32 characters" in result.reason
    assert "u+short-key" not in result.reason


async def test_throttling_is_transient_with_a_default_wait(pd: FakePagerDuty) -> None:
    pd.throttle_next()

    result = await send(pager(pd.url), ALERT)

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == 429
    assert result.retry_after == 30.0
    assert pd.incidents == []


async def test_retry_after_is_honoured_when_sent(pd: FakePagerDuty) -> None:
    pd.rate_limit_next(retry_after=7)

    result = await send(pager(pd.url), ALERT)

    assert isinstance(result, Failed) and result.transient and result.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(pd: FakePagerDuty, status: int) -> None:
    pd.fail_next(status=status, text="upstream trouble")

    result = await send(pager(pd.url), ALERT)

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == status


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_auth_and_not_found_are_permanent(pd: FakePagerDuty, status: int) -> None:
    pd.fail_next(status=status, text="nope")

    result = await send(pager(pd.url), ALERT)

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == status


async def test_timeout_is_transient(pd: FakePagerDuty) -> None:
    pd.slow_next(delay=3)

    result = await send(pager(pd.url, timeout="300ms"), ALERT)

    assert isinstance(result, Failed) and result.transient
    assert "timed out" in result.reason


async def test_connection_refused_is_transient() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v2/enqueue"

    result = await send(pager(url), ALERT)

    assert isinstance(result, Failed) and result.transient


async def test_missing_routing_key_variable_is_permanent(pd: FakePagerDuty) -> None:
    result = await send(pager(pd.url), ALERT, env={})

    assert isinstance(result, Failed) and not result.transient
    assert "PAGERDUTY_ROUTING_KEY" in result.reason
    assert pd.requests == []


async def test_no_reason_contains_the_routing_key(pd: FakePagerDuty) -> None:
    # Even an endpoint that echoes the whole request cannot put the key into a reason.
    pd.fail_next(status=500, text=f"cannot process routing_key={DEFAULT_ROUTING_KEY}")
    pd.fail_next(status=400, json={"message": f"bad key {DEFAULT_ROUTING_KEY}"})
    channel = pager(pd.url)

    reasons = [(await send(channel, ALERT)).reason for _ in range(2)]  # type: ignore[union-attr]

    assert all(DEFAULT_ROUTING_KEY not in reason for reason in reasons)
    assert all("***" in reason for reason in reasons)


async def test_shared_session_stays_open(pd: FakePagerDuty) -> None:
    channel = pager(pd.url)
    async with aiohttp.ClientSession() as http:
        sender = create_sender(channel, ENV, http=http)
        for n in range(3):
            out = make_outbound(channel, request={**ALERT, "id": f"r{n}", "dedup_key": f"k{n}"})
            assert isinstance(await sender.send(out), Delivered)
        await sender.close()
        assert not http.closed

    assert [i.dedup_key for i in pd.incidents] == ["k0", "k1", "k2"]


async def test_oversized_details_are_dropped_not_the_page(pd: FakePagerDuty) -> None:
    result = await send(pager(pd.url), ALERT, text="x" * 600_000)

    assert isinstance(result, Delivered)
    details = pd.events[0]["payload"]["custom_details"]
    assert details["request_id"] == "req-trigger"
    assert "512 KB" in details["error"]
    assert pd.incidents[0].summary == "Deployment Complete: production"
