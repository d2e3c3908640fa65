"""A schedule as a recipient: `schedule:<id>`, its handle bare or with `@`, wherever a recipient
can appear — checked against the channels its people can be reached on, and known to the
router when a request names it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from notifierd.config.model import Contact, Snapshot
from notifierd.config.recipients import schedule_recipients
from notifierd.routing.allowed import AllowedRecipients
from notifierd.routing.router import Router
from notifierd.schedules.paging import Paged, Unpaged, page
from tests.unit.builders import request
from tests.unit.config_repo import findings, validate
from tests.unit.test_schedule_config import PRIMARY

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

ROUTES = """\
channels:
  ops-slack: {type: slack, token: "${SLACK_BOT_TOKEN}", default_recipients: ["#ops"]}
  ops-email: {type: email, host: "${SMTP_HOST}", from: n@company.com, default_recipients: [ops@company.com]}
people:
  alice: {contacts: [{slack: "@U0ALICE"}]}
  bob: {contacts: [{slack: "@U0BOB"}]}
  carol: {contacts: [{slack: "@U0CAROL"}]}
  dave: {contacts: [{slack: "@U0DAVE"}]}
  erin: {contacts: [{slack: "@U0ERIN"}]}
routes:
  - name: page
    matchers: ['team="db"']
    channels: [ops-slack]
    recipients: ["schedule:primary", "on-call-primary", "@on-call-primary"]
  - name: mail
    matchers: ['team="web"']
    channels: [ops-email]
    recipients: [RECIPIENT]
  - name: default
    channels: [ops-slack, ops-email]
"""
POLICY = """\
levels:
  - {after: 0m, channels: [ops-slack], recipients: [on-call-primary]}
  - {after: 5m, channels: [ops-email], recipients: ["schedule:primary"]}
"""


def files(recipient: str = "ops@company.com") -> dict[str, str]:
    return {
        "routes.yaml": ROUTES.replace("RECIPIENT", f'"{recipient}"'),
        "schedules/primary.yaml": PRIMARY,
        "policies/db.yaml": POLICY,
    }


def test_every_spelling_of_a_schedule_fits_where_its_people_can_be_reached(
    tmp_path: Path,
) -> None:
    assert findings(tmp_path, files()) == [
        "policies/db.yaml:3:53: schedule 'schedule:primary' has nobody with a contact for any "
        "of level 2's channels (email); its people's contacts are slack"
    ]


def test_a_handle_on_a_channel_its_people_cannot_use_is_located(tmp_path: Path) -> None:
    found = findings(tmp_path, files("on-call-primary"))
    assert (
        "routes.yaml:18:18: schedule 'on-call-primary' has nobody with a contact for any of "
        "route 'mail''s channels (email); its people's contacts are slack"
    ) in found


def test_an_unknown_handle_is_no_schedule(tmp_path: Path) -> None:
    found = findings(tmp_path, files("on-call-primry"))
    assert any(
        f.startswith("routes.yaml:18:18: recipient 'on-call-primry' fits none") for f in found
    )


def snapshot(tmp_path: Path) -> Snapshot:
    text = {**files(), "policies/db.yaml": POLICY.replace("ops-email", "ops-slack")}
    result = validate(tmp_path, text)
    assert result.snapshot is not None, [str(p) for p in result.problems]
    return result.snapshot


def test_the_spellings_of_a_schedule(tmp_path: Path) -> None:
    assert schedule_recipients(snapshot(tmp_path).schedules) == {
        "schedule:primary": "primary",
        "on-call-primary": "primary",
        "@on-call-primary": "primary",
    }


def test_a_request_may_name_a_schedule_but_not_a_near_miss(tmp_path: Path) -> None:
    snap = snapshot(tmp_path)
    allowed = AllowedRecipients(snap)
    slack = [snap.channels["ops-slack"]]
    assert (
        allowed.refusals(slack, ["schedule:primary", "on-call-primary", "@on-call-primary"]) == ()
    )
    assert allowed.refusals(slack, ["@on-call-primry"]) == (
        "recipient '@on-call-primry' is not allowed on channel 'ops-slack': not a known "
        "recipient and the channel sets no allow_recipients",
    )


def test_the_router_plans_one_delivery_per_channel_keyed_on_the_schedule(
    tmp_path: Path,
) -> None:
    snap = snapshot(tmp_path)
    decision = Router(snap).route(request(labels={"team": "db"}), NOW)
    # Three spellings, one schedule: one delivery, resolved to a person only when it is sent.
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [
        ("ops-slack", "schedule:primary")
    ]
    # A channel none of its people (nor its fallback) can use gets its defaults, as for any
    # recipient that does not fit it.
    mail = Router(snap).route(request(labels={"team": "web"}, recipients=["@on-call-primary"]), NOW)
    assert [(d.channel, d.recipient) for d in mail.deliveries] == [("ops-email", "ops@company.com")]
    assert mail.warnings == ()


def test_an_at_name_that_is_no_handle_stays_a_slack_recipient(tmp_path: Path) -> None:
    snap = snapshot(tmp_path)
    decision = Router(snap).route(
        request(labels={"team": "db"}, recipients=["@U0ALICE", "on-call-primary"]), NOW
    )
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [
        ("ops-slack", "@U0ALICE"),
        ("ops-slack", "schedule:primary"),
    ]


def paged_at(snap: Snapshot, at: datetime, severity: str | None = None) -> Paged | Unpaged:
    schedule = snap.schedules["primary"]
    return page(schedule, snap.people, snap.channels["ops-slack"], severity, None, at)


def test_the_person_on_call_is_paged_by_their_contact(tmp_path: Path) -> None:
    snap = snapshot(tmp_path)
    # Saturday 2026-06-06: the weekly layer only (erin's office hours are weekdays).
    assert paged_at(snap, datetime(2026, 6, 6, 12, tzinfo=UTC)) == Paged(
        "primary", "alice", "@U0ALICE", "layer weekly"
    )
    assert paged_at(snap, datetime(2026, 12, 25, 12, tzinfo=UTC)) == Paged(
        "primary", "dave", "@U0DAVE", "override (holiday swap)"
    )
    assert Paged("primary", "dave", "@U0DAVE", "override").slack_id == "U0DAVE"
    assert Paged("primary", None, "#incidents", "fallback").slack_id is None


def test_nobody_on_call_falls_back_else_is_unpaged_with_the_reason(tmp_path: Path) -> None:
    snap = snapshot(tmp_path)
    before = datetime(2025, 12, 1, tzinfo=UTC)  # before every layer starts
    assert paged_at(snap, before) == Paged("primary", None, "#incidents", "fallback")
    bare = replace(snap.schedules["primary"], fallback=())
    channel = snap.channels["ops-slack"]
    assert page(bare, snap.people, channel, None, None, before) == Unpaged(
        "primary", None, "nobody on call for schedule primary"
    )


def test_a_person_whose_preferences_reach_no_one_is_unpaged(tmp_path: Path) -> None:
    snap = snapshot(tmp_path)
    picky = {
        **snap.people,
        "alice": replace(
            snap.people["alice"], contacts=(Contact("slack", "@U0ALICE", "critical"),)
        ),
    }
    bare = replace(snap.schedules["primary"], fallback=())
    channel = snap.channels["ops-slack"]
    saturday = datetime(2026, 6, 6, 12, tzinfo=UTC)
    assert page(bare, picky, channel, "critical", None, saturday) == Paged(
        "primary", "alice", "@U0ALICE", "layer weekly"
    )
    assert page(bare, picky, channel, "warning", None, saturday) == Unpaged(
        "primary",
        "alice",
        "nobody on call for schedule primary reachable on ops-slack: alice's preferences pick "
        "no slack contact for this request",
    )
