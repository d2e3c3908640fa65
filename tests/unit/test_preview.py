"""What the daemon would do with a request (pipeline/preview.py), as ``routes test`` reports it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifierd.active import Active
from notifierd.config.model import Snapshot, TemplateVersion
from notifierd.intake.parse import request_problems
from notifierd.pipeline.preview import Preview, preview
from notifierd.status import DeliveryStatus
from tests.unit.builders import example_snapshot_with, make_snapshot, requiring_template

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 12, 5, 2, 30, tzinfo=UTC)  # inside weekly-maintenance

DEPLOYMENT = requiring_template("deployment_complete", "environment", "version")


def snapshot(*templates: TemplateVersion) -> Snapshot:
    return example_snapshot_with(*templates)


def run(data: dict[str, Any], at: datetime = NOON, snap: Snapshot | None = None) -> Preview:
    return preview(Active.of(snap or snapshot(DEPLOYMENT)), data, at)


def messages(found: tuple[Any, ...]) -> list[str]:
    return [f.message for f in found]


def test_a_plain_request_would_be_sent_with_nothing_to_say() -> None:
    result = run({"id": "r-1", "title": "t", "message": "m", "severity": "critical"})
    assert (result.outcome, result.failures, result.warnings) == ("routed", (), ())
    assert [(d.planned.channel, d.planned.recipient, d.status) for d in result.deliveries] == [
        ("ops-slack", "#incidents", DeliveryStatus.QUEUED),
        ("pager", None, DeliveryStatus.QUEUED),
        ("ops-slack", "#ops", DeliveryStatus.QUEUED),
    ]
    assert not result.fails


def test_a_channel_override_naming_no_channel_is_dead_lettered_as_the_daemon_records_it() -> None:
    snap = snapshot()
    config = str(snap.identity)
    result = run({"title": "t", "channels": ["ops-slack", "nope"]}, snap=snap)
    assert result.fails
    assert messages(result.failures) == [
        f"unknown channel 'nope': no channel of that name in config {config}",
    ]
    assert [f.channel for f in result.failures] == ["nope"]
    assert result.unknown_channels == ("nope",)
    assert [d.planned.channel for d in result.deliveries] == ["ops-slack"]  # still sent


def test_a_channel_type_the_routes_did_not_choose_and_no_default_is_rejected_up_front() -> None:
    # The example config marks no channel default: true, and the default route chose Slack only.
    result = run({"title": "t", "channels": ["slack", "sms"]})
    assert result.fails
    assert result.outcome == "rejected"
    assert messages(result.failures) == [
        "no channel of type sms: the routes chose none and no sms channel is default: true"
    ]
    assert result.deliveries == ()


def test_a_channel_type_selects_the_channels_of_that_type_the_routes_chose() -> None:
    result = run({"title": "t", "severity": "critical", "channels": ["pagerduty"]})
    assert not result.fails
    assert [d.planned.channel for d in result.deliveries] == ["pager"]


def test_a_named_template_missing_required_variables_is_a_failure_with_its_error() -> None:
    result = run({"template": "deployment_complete", "context": {"environment": "prod"}})
    assert result.fails
    (failure,) = result.failures
    assert failure.message.startswith("template deployment_complete cannot render this request: ")
    assert "'version'" in failure.message and "'environment'" not in failure.message
    assert (failure.channel, failure.recipient) == ("ops-slack", "#ops")
    (delivery,) = result.deliveries
    assert (delivery.status, delivery.error) == (DeliveryStatus.DEAD, failure.message)
    ok = run({"template": "deployment_complete", "context": {"environment": "p", "version": "2"}})
    assert not ok.fails and ok.deliveries[0].template == "deployment_complete@1.0"


def test_a_route_template_that_cannot_render_falls_back_with_a_warning() -> None:
    # The critical route's default template needs a variable this request lacks.
    incident = requiring_template("incident_alert", "service")
    result = run({"title": "t", "severity": "critical"}, snap=snapshot(incident))
    assert not result.fails
    fallbacks = [w for w in result.warnings if w.message.startswith("route template")]
    assert [(w.channel, w.recipient) for w in fallbacks] == [
        ("ops-slack", "#incidents"),
        ("pager", None),
    ]
    assert "sent as plain title + message" in fallbacks[0].message
    first = result.deliveries[0]
    assert (first.status, first.template, first.note) == (
        DeliveryStatus.QUEUED,
        None,
        fallbacks[0].message,
    )


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_an_alert_action_acts_on_its_alert_and_is_not_routed(action: str) -> None:
    result = run({"kind": "alert", "action": action, "dedup_key": "db-down"})
    assert not result.fails
    assert result.alert_action is not None
    assert (result.alert_action.action, result.alert_action.dedup_key) == (action, "db-down")
    assert result.decision is None and result.deliveries == ()
    assert result.outcome == {"acknowledge": "acknowledged", "resolve": "resolved"}[action]


def test_an_alert_action_without_dedup_key_is_ignored_as_the_daemon_says() -> None:
    result = run({"kind": "alert", "action": "acknowledge", "title": "x"})
    assert result.outcome == "ignored"
    assert messages(result.failures) == ["an acknowledge request names its alert with dedup_key"]
    resolve = run({"kind": "alert", "action": "resolve", "title": "x"})
    assert messages(resolve.failures) == ["a resolve request names its alert with dedup_key"]


def test_schema_problems_are_a_rejection_in_the_parsers_words() -> None:
    long = "x" * 300
    data = {"title": "t", "severity": long, "colour": "red"}
    result = run(data)
    assert (result.outcome, result.request) == ("rejected", None)
    (failure,) = result.failures
    assert failure.message == "; ".join(request_problems(data))
    assert "did you mean" not in failure.message or "colour" in failure.message
    assert long not in failure.message and "..." in failure.message  # shortened
    assert "is not one of" not in failure.message  # no raw jsonschema text


def test_not_json_values_are_rejected_as_the_daemon_rejects_them() -> None:
    result = run({"title": "t", "metadata": {"n": float("nan")}})
    assert messages(result.failures) == ["not valid JSON: NaN is not a JSON value"]


def test_a_disallowed_recipient_rejects_the_whole_request() -> None:
    result = run({"title": "t", "priority": "low", "recipients": ["dev@x.com", "x@evil.com"]})
    assert result.outcome == "rejected" and result.deliveries == ()
    assert messages(result.failures) == [
        "recipient 'x@evil.com' is not allowed on channel 'ops-email': not a known recipient "
        "and allow_recipients has no pattern for it"
    ]


def test_a_recipient_that_fits_no_channel_is_a_warning_and_the_defaults_are_used() -> None:
    result = run({"title": "t", "priority": "low", "recipients": ["#ops"]})
    assert not result.fails
    assert messages(result.warnings) == [
        "recipient '#ops' fits none of the request's channels (ops-email): nothing is sent to "
        "it; a channel no recipient fits gets its default_recipients, a teams, pagerduty or "
        "webhook channel its configured target"
    ]
    (delivery,) = result.deliveries
    assert (delivery.planned.recipient, delivery.status) == ("ops@company.com", "queued")
    assert delivery.note == result.warnings[0].message  # what the daemon records with it


def test_a_recipient_that_fits_one_of_the_channels_is_no_warning() -> None:
    result = run({"title": "t", "severity": "critical", "recipients": ["#ops"]})
    assert result.warnings == () and not result.fails


def test_a_request_that_reaches_no_one_is_a_failure() -> None:
    snap = make_snapshot(routes=[{"name": "low", "matchers": ['priority="low"'], "channels": []}])
    result = run({"title": "t", "priority": "high"}, snap=snap)
    assert result.outcome == "unrouted"
    assert messages(result.failures) == ["no route matched and the request names no channels"]


def test_a_channel_with_no_recipient_at_all_is_a_failure() -> None:
    snap = make_snapshot(
        channels={"bare-slack": {"type": "slack"}},
        routes=[{"name": "all", "channels": ["bare-slack"]}],
    )
    result = run({"title": "t"}, snap=snap)
    (failure,) = result.failures
    assert failure.message.startswith("slack channel 'bare-slack' has no recipient")
    assert result.deliveries[0].status == DeliveryStatus.DEAD


def test_suppressed_deliveries_are_held_unrendered_as_the_daemon_holds_them() -> None:
    data = {"template": "deployment_complete", "source": "maintenance:db"}
    result = run(data, at=SATURDAY_NIGHT)
    assert (result.outcome, result.failures) == ("suppressed", ())
    assert [d.status for d in result.deliveries] == [DeliveryStatus.SUPPRESSED]
    assert run(data).fails  # outside the window the template would fail


def test_an_alert_naming_an_unknown_policy_warns_that_it_will_not_escalate() -> None:
    result = run({"kind": "alert", "title": "t", "escalation_policy": "nope"})
    assert not result.fails and not result.escalates
    assert any("'nope' is not in config" in m for m in messages(result.warnings))
    alert = run({"kind": "alert", "title": "t", "severity": "critical"})
    assert alert.escalates and alert.warnings == ()
    notification = run({"title": "t", "severity": "critical"})
    assert not notification.escalates  # only an alert escalates


def test_text_postgres_cannot_store_is_rejected_as_the_daemon_rejects_it() -> None:
    result = run({"title": "\ud800"})
    assert messages(result.failures) == [
        "not storable text: contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)"
    ]


def test_a_suppressed_alert_opens_nothing_so_nothing_escalates() -> None:
    data = {"kind": "alert", "title": "t", "source": "maintenance:x", "escalation_policy": "nope"}
    result = run(data, at=SATURDAY_NIGHT)
    assert result.outcome == "suppressed" and result.reason == (
        "suppression window 'weekly-maintenance' is active"
    )
    assert (result.escalates, result.warnings, result.failures) == (False, (), ())
