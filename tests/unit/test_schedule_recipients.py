"""A schedule as a recipient: `schedule:<id>`, its handle bare or with `@`, wherever a recipient
can appear — checked against the channels its people can be reached on, and known to the
router when a request names it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from notifierd.config.model import Snapshot
from notifierd.config.recipients import schedule_recipients
from notifierd.routing.allowed import AllowedRecipients
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
