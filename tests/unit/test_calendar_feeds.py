"""Calendar feed tokens: declared in routes.yaml, checked against the config, kept out of logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifierd.http.auth import redacted
from notifierd.principals import CredentialError, FeedKind, Principals
from notifierd.secrets import Secrets
from tests.unit.config_repo import findings, validate
from tests.unit.test_schedule_config import PRIMARY, ROUTES, repo

FEEDS = """\
calendar_feeds:
  team:
    token: "${TEAM_FEED}"
    schedules: [primary]
  erin-phone: {token: "${ERIN_FEED}", people: [erin]}
"""


def routes(feeds: str = FEEDS) -> str:
    alice = '  alice: {roles: [view], token: "${ALICE_API}", contacts: [{slack: "@U0ALICE"}]}\n'
    return ROUTES.replace('  alice: {contacts: [{slack: "@U0ALICE"}]}\n', alice, 1) + feeds


def test_feeds_become_part_of_the_snapshot(tmp_path: Path) -> None:
    result = validate(tmp_path, repo(PRIMARY, routes()))
    assert result.problems == []
    assert result.snapshot is not None
    team = result.snapshot.calendar_feeds["team"]
    assert (team.token, team.schedules, team.people) == ("${TEAM_FEED}", ("primary",), ())


def test_a_feed_naming_what_does_not_exist_is_located(tmp_path: Path) -> None:
    text = (
        routes()
        .replace("schedules: [primary]", "schedules: [primry]")
        .replace("people: [erin]", "people: [erin, zed]")
    )
    assert findings(tmp_path, repo(PRIMARY, text)) == [
        "routes.yaml:17:17: calendar feed 'team' names unknown schedule 'primry' (did you mean "
        "'primary'?); known: primary",
        "routes.yaml:18:54: calendar feed 'erin-phone' names unknown person 'zed'; known: "
        "alice, bob, carol, dave, erin, mallory",
    ]


def test_a_feed_token_is_a_reference_of_its_own(tmp_path: Path) -> None:
    literal = routes().replace('"${TEAM_FEED}"', "hunter2")
    assert any("environment reference" in f for f in findings(tmp_path, repo(PRIMARY, literal)))
    shared = routes().replace("${TEAM_FEED}", "${ALICE_API}")
    assert any("is already the token" in f for f in findings(tmp_path, repo(PRIMARY, shared)))
    nothing = routes().replace("    schedules: [primary]\n", "")
    assert any("names what its token" in f for f in findings(tmp_path, repo(PRIMARY, nothing)))


def test_a_feed_token_reads_only_what_its_feed_names(tmp_path: Path) -> None:
    snapshot = validate(tmp_path, repo(PRIMARY, routes())).snapshot
    assert snapshot is not None
    secrets = Secrets({"TEAM_FEED": "team-secret", "ALICE_API": "alice-secret"}, {})
    principals = Principals.of(snapshot, secrets)
    assert principals.feed_allows("team-secret", FeedKind.SCHEDULE, "primary")
    assert not principals.feed_allows("team-secret", FeedKind.PERSON, "primary")
    assert not principals.feed_allows("alice-secret", FeedKind.SCHEDULE, "primary")
    assert not principals.feed_allows(None, FeedKind.SCHEDULE, "primary")
    # ERIN_FEED is unset: that feed is off, not open.
    assert not principals.feed_allows("", FeedKind.PERSON, "erin")
    with pytest.raises(CredentialError, match="calendar feed team has the same token"):
        Principals.of(snapshot, Secrets({"TEAM_FEED": "same", "ALICE_API": "same"}, {}))


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("/api/v1/oncall/people/a.ics?token=abc", "/api/v1/oncall/people/a.ics?token=REDACTED"),
        ("/x.ics?a=1&token=abc%20d&b=2", "/x.ics?a=1&token=REDACTED&b=2"),
        ("GET /x.ics?Token=abc HTTP/1.1", "GET /x.ics?Token=REDACTED HTTP/1.1"),
        ("/x.ics?mytoken=kept", "/x.ics?mytoken=kept"),
    ],
)
def test_token_values_are_redacted_from_logged_urls(url: str, logged: str) -> None:
    assert redacted(url) == logged
