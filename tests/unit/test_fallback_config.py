"""validate on channels' ``fallback``: unknown names, a channel naming itself, and cycles, each
at the exact file, line and column; a good fallback reaches the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from notifierd.diff.structure import diff_snapshots
from notifierd.validation import lint_repository
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate, write_repo

CHANNELS = """\
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    default_recipients: ["#ops"]
    fallback: %s
  ops-email:
    type: email
    host: ${SMTP_HOST}
    from: notifications@company.com
    default_recipients: ["ops@company.com"]
    fallback: %s
  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}", fallback: %s}
routes:
  - name: default
    channels: [ops-slack]
"""


def routes(slack: str = "[]", email: str = "[]", pager: str = "[]") -> dict[str, str]:
    return {"routes.yaml": CHANNELS % (slack, email, pager)}


def test_fallbacks_reach_the_snapshot(tmp_path: Path) -> None:
    result = validate(tmp_path, routes(slack="[ops-email, pager]"))

    assert result.problems == []
    assert result.snapshot is not None
    assert result.snapshot.channels["ops-slack"].fallback == ("ops-email", "pager")
    assert result.snapshot.channels["ops-email"].fallback == ()
    # Not a setting the sender sees.
    assert "fallback" not in result.snapshot.channels["ops-slack"].settings


def test_a_channel_without_fallback_has_none(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES})
    assert result.snapshot is not None
    assert all(c.fallback == () for c in result.snapshot.channels.values())


def test_unknown_fallback_is_located_with_a_hint(tmp_path: Path) -> None:
    assert findings(tmp_path, routes(slack="[ops-emial]")) == [
        "routes.yaml:6:16: unknown channel 'ops-emial' (did you mean 'ops-email'?) as fallback "
        "of 'ops-slack'; channels are defined under 'channels:' in routes.yaml"
    ]


def test_a_channel_naming_itself(tmp_path: Path) -> None:
    assert findings(tmp_path, routes(email="[pager, ops-email]")) == [
        "routes.yaml:12:23: channel 'ops-email' names itself as its fallback: a delivery that "
        "dies here would die again; name another channel"
    ]


def test_a_two_channel_cycle_is_reported_once(tmp_path: Path) -> None:
    assert findings(tmp_path, routes(slack="[ops-email]", email="[ops-slack]")) == [
        "routes.yaml:6:16: fallback cycle: ops-slack -> ops-email -> ops-slack; a delivery "
        "falls back one hop only, so remove one of these fallbacks"
    ]


def test_a_longer_cycle_names_every_channel_on_it(tmp_path: Path) -> None:
    found = findings(tmp_path, routes(slack="[ops-email]", email="[pager]", pager="[ops-slack]"))
    assert found == [
        "routes.yaml:6:16: fallback cycle: ops-slack -> ops-email -> pager -> ops-slack; a "
        "delivery falls back one hop only, so remove one of these fallbacks"
    ]


def test_a_chain_without_a_cycle_is_valid(tmp_path: Path) -> None:
    result = validate(tmp_path, routes(slack="[ops-email]", email="[pager]"))
    assert result.problems == []


def test_fallback_must_be_a_list_of_unique_names(tmp_path: Path) -> None:
    found = findings(tmp_path, routes(slack="[ops-email, ops-email]"))
    assert len(found) == 1 and found[0].startswith("routes.yaml:6:15: ")


def test_a_channel_only_named_as_a_fallback_is_not_unused(tmp_path: Path) -> None:
    result = lint_repository(
        write_repo(tmp_path, routes(slack="[ops-email, pager]")),
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert [p.message for p in result.findings if p.code == "unused-channel"] == []


def test_a_changed_fallback_is_a_channel_change(tmp_path: Path) -> None:
    old = validate(tmp_path / "old", routes(slack="[ops-email]")).snapshot
    new = validate(tmp_path / "new", routes(slack="[pager]")).snapshot
    assert old is not None and new is not None
    [change] = diff_snapshots(old, new)
    assert (change.kind, change.name, change.details) == (
        "channel",
        "ops-slack",
        ["fallback: ['ops-email'] → ['pager']"],
    )


def test_a_fallback_channel_without_default_recipients_is_a_warning(tmp_path: Path) -> None:
    files = routes(slack="[ops-email]")
    files["routes.yaml"] = files["routes.yaml"].replace(
        '    default_recipients: ["ops@company.com"]\n', ""
    )
    assert findings(tmp_path, files) == [
        "routes.yaml:6:16: warning: fallback channel 'ops-email' has no default_recipients: a "
        "dead delivery of 'ops-slack' reaches it only when its request names a recipient for "
        "email; give 'ops-email' default_recipients"
    ]
