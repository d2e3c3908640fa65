"""People and their preferences: named recipients reached where, and from when, they choose."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from notifierd.config.model import Snapshot
from notifierd.diff.structure import diff_snapshots
from notifierd.routing.router import Router
from tests.unit.builders import request
from tests.unit.config_repo import findings, validate

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

ROUTES = """\
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", default_recipients: ["#ops"]}
  mail: {type: email, host: "${SMTP_HOST}", from: n@company.com, default_recipients: [ops@company.com]}
  text: {type: sms, account_sid: "${TWILIO_ACCOUNT_SID}", auth_token: "${TWILIO_AUTH_TOKEN}", from: "+15550100", default_recipients: ["+15550199"]}
people:
  alice:
    contacts:
      - {slack: "@alice"}
      - {email: alice@company.com, min_priority: high}
      - {sms: "+4915112345678", min_severity: critical}
  bob:
    reach: first
    contacts:
      - {email: bob@company.com}
      - {slack: "@bob"}
routes:
  - name: page-alice
    matchers: ['team="db"']
    channels: [chat, mail, text]
    recipients: [alice]
  - name: bob
    matchers: ['team="web"']
    channels: [chat, mail]
    recipients: [bob, "#web"]
  - name: default
    channels: [chat]
"""
POLICY = """\
levels:
  - {after: 0m, channels: [chat, text], recipients: [alice]}
"""


def snapshot(tmp_path: Path, routes: str = ROUTES) -> Snapshot:
    result = validate(tmp_path, {"routes.yaml": routes, "policies/db.yaml": POLICY})
    assert result.snapshot is not None, [str(p) for p in result.problems]
    return result.snapshot


def where(router: Router, **fields: object) -> list[tuple[str, str | None]]:
    decision = router.route(request(**fields), NOW)
    return [(d.channel, d.recipient) for d in decision.deliveries]


def test_contacts_apply_from_their_severity_and_priority(tmp_path: Path) -> None:
    router = Router(snapshot(tmp_path))
    # A warning: Slack only. E-mail and SMS are hers but not for this request, and the
    # channels' default recipients are not paged in her place.
    assert where(router, labels={"team": "db"}, severity="warning") == [("chat", "@alice")]
    assert where(router, labels={"team": "db"}, severity="warning", priority="high") == [
        ("chat", "@alice"),
        ("mail", "alice@company.com"),
    ]
    assert where(router, labels={"team": "db"}, severity="critical") == [
        ("chat", "@alice"),
        ("text", "+4915112345678"),
    ]
    # The same route again: answers are cached per severity and priority, never mixed up.
    assert where(router, labels={"team": "db"}, severity="warning") == [("chat", "@alice")]


def test_reach_first_takes_the_first_contact_the_channels_allow(tmp_path: Path) -> None:
    router = Router(snapshot(tmp_path))
    # bob prefers e-mail; the route has both, so Slack gets only #web, and no default.
    assert where(router, labels={"team": "web"}) == [
        ("chat", "#web"),
        ("mail", "bob@company.com"),
    ]
    # A request that names its channels: with Slack alone, bob's second choice reaches him.
    assert where(router, labels={"team": "web"}, channels=["chat"], recipients=["bob"]) == [
        ("chat", "@bob")
    ]


def test_a_request_and_an_escalation_level_can_name_people(tmp_path: Path) -> None:
    router = Router(snapshot(tmp_path))
    # "#web" is a route's recipient: known to the config, so a request may name it too.
    assert where(router, channels=["chat", "text"], recipients=["alice", "#web"]) == [
        ("chat", "@alice"),
        ("chat", "#web"),
    ]
    assert where(router, channels=["chat", "text"], recipients=["alice"], severity="critical") == [
        ("chat", "@alice"),
        ("text", "+4915112345678"),
    ]


def test_validate_checks_contacts_and_where_people_are_named(tmp_path: Path) -> None:
    routes = ROUTES.replace('{slack: "@alice"}', '{slack: "alice"}').replace(
        'recipients: [bob, "#web"]',
        'recipients: [bob, "#web"]\n  - name: pager\n    channels: [text]\n    recipients: [bob]',
    )
    found = findings(tmp_path, {"routes.yaml": routes, "policies/db.yaml": POLICY})
    assert any(
        "routes.yaml:8:17:" in f
        and "slack contact 'alice' of person 'alice' is not a slack address" in f
        for f in found
    ), found
    assert any(
        "person 'bob' has no contact for any of route 'pager''s channels (sms)" in f for f in found
    ), found


def test_schema_refuses_a_contact_of_two_kinds_and_an_unknown_reach(tmp_path: Path) -> None:
    routes = ROUTES.replace('{slack: "@alice"}', '{slack: "@alice", email: a@company.com}').replace(
        "reach: first", "reach: sometimes"
    )
    found = findings(tmp_path, {"routes.yaml": routes, "policies/db.yaml": POLICY})
    assert any(
        f.startswith("routes.yaml:8:9:")
        and "a contact names exactly one of slack, email or sms" in f
        for f in found
    ), found
    assert "routes.yaml:12:12: 'reach' must be one of: all, first; got string 'sometimes'" in found


def test_diff_names_a_changed_person(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old")
    new = snapshot(
        tmp_path / "new", ROUTES.replace("min_severity: critical", "min_severity: error")
    )
    [change] = [c for c in diff_snapshots(old, new) if c.kind == "person"]
    assert change.name == "alice" and change.what == "changed"
    assert "min_severity=error" in str(change.details)
