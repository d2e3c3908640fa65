"""Who may send where: allow_recipients patterns per channel type, and the router refusing a
request whose own recipients are neither known to the config nor admitted by them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifierd.config.recipient_patterns import PatternError, parse_pattern
from notifierd.routing.router import Router
from tests.unit.builders import make_snapshot, request
from tests.unit.config_repo import MINIMAL_ROUTES, findings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# --- the pattern syntax, per channel type ---------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "address", "admitted"),
    [
        ("*@company.com", "dev@company.com", True),
        ("*@company.com", "dev@COMPANY.com", True),  # domains compare case-insensitively
        ("*@company.com", "dev@evil.com", False),
        ("*@company.com", "dev@eu.company.com", False),  # a subdomain needs *@*.company.com
        ("*@company.com", "dev@company.com.evil.com", False),
        ("*@company.com", "dev@evilcompany.com", False),
        ("*@*.company.com", "dev@eu.company.com", True),
        ("*@*.company.com", "dev@a.b.company.com", True),
        ("*@*.company.com", "dev@company.com", False),
        ("ops@company.com", "ops@Company.com", True),
        ("ops@company.com", "Ops@company.com", False),  # local parts compare exactly
        ("ops@company.com", "dev@company.com", False),
        ("*", "anyone@anywhere.example", True),
    ],
)
def test_email_patterns(pattern: str, address: str, admitted: bool) -> None:
    assert parse_pattern("email", pattern).admits(address) is admitted


@pytest.mark.parametrize(
    ("pattern", "address", "admitted"),
    [
        ("#team-*", "#team-db", True),
        ("#team-*", "#TEAM-db", True),  # Slack names compare case-insensitively
        ("#team-*", "#random", False),
        ("#team-*", "@team-db", False),  # a channel pattern admits no user
        ("#ops", "#ops", True),
        ("#ops", "#ops-2", False),
        ("@*", "@alice", True),
        ("@*", "#general", False),
        ("U*", "@U024BE7LH", True),  # an id, written after @ as the README does
        ("U*", "U024BE7LH", True),  # or bare, as in slack:U024BE7LH
        ("U*", "@Uwe", False),  # a name that starts with a capital is not an id
        ("C0*", "C0123ABCD", True),
        ("C0*", "#C0123ABCD", True),
        ("C0*", "C1234ABCD", False),
        ("*", "#anything", True),
    ],
)
def test_slack_patterns(pattern: str, address: str, admitted: bool) -> None:
    assert parse_pattern("slack", pattern).admits(address) is admitted


@pytest.mark.parametrize(
    ("pattern", "address", "admitted"),
    [
        ("+4930*", "+493012345678", True),
        ("+4930*", "+4940123456", False),
        ("+4930*", "+19005550100", False),  # premium-rate numbers stay out
        ("+1555*", "+15550100", True),
        ("+15550100", "+15550100", True),
        ("+15550100", "+155501001", False),
    ],
)
def test_sms_patterns(pattern: str, address: str, admitted: bool) -> None:
    assert parse_pattern("sms", pattern).admits(address) is admitted


@pytest.mark.parametrize(
    ("channel_type", "pattern", "why"),
    [
        ("email", "*@*", "invalid e-mail pattern '*@*'"),
        ("email", "*.company.com", "invalid e-mail pattern"),
        ("email", "dev*@company.com", "invalid e-mail pattern"),
        ("email", "*@company", "invalid e-mail pattern"),
        ("slack", "team-*", "invalid Slack pattern 'team-*'"),
        ("slack", "#", "invalid Slack pattern"),
        ("slack", "#a b", "invalid Slack pattern"),
        ("sms", "4930*", "invalid SMS pattern '4930*'"),
        ("sms", "+1", "invalid SMS pattern"),
        ("sms", "+49*30", "invalid SMS pattern"),
        ("teams", "*", "teams channels deliver to their configured target"),
        ("webhook", "*@company.com", "webhook channels deliver to their configured target"),
    ],
)
def test_invalid_patterns_say_why(channel_type: str, pattern: str, why: str) -> None:
    with pytest.raises(PatternError, match=why.replace("*", r"\*")):
        parse_pattern(channel_type, pattern)


_LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
_DOMAIN = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)


@given(local=_LABEL, allowed=_DOMAIN, domain=_DOMAIN)
def test_an_email_pattern_admits_only_its_domain_and_subdomains(
    local: str, allowed: str, domain: str
) -> None:
    address = f"{local}@{domain}"
    exact, subdomains = (
        parse_pattern("email", f"*@{allowed}"),
        parse_pattern("email", f"*@*.{allowed}"),
    )
    assert exact.admits(address) is (domain == allowed)
    assert subdomains.admits(address) is domain.endswith(f".{allowed}")


@given(
    prefix=st.text("0123456789", min_size=1, max_size=6),
    number=st.text("0123456789", min_size=2, max_size=14),
)
def test_an_sms_prefix_admits_only_numbers_that_start_with_it(prefix: str, number: str) -> None:
    pattern = parse_pattern("sms", f"+1{prefix}*")
    assert pattern.admits(f"+{number}") is f"+{number}".startswith(f"+1{prefix}")


# --- the router ---------------------------------------------------------------------------

CHANNELS = {
    "ops-email": {
        "type": "email",
        "default_recipients": ["ops@company.com"],
        "allow_recipients": ["*@company.com"],
    },
    "plain-email": {"type": "email", "default_recipients": ["ops@company.com"]},
    "ops-slack": {"type": "slack", "default_recipients": ["#ops"]},
    "text": {"type": "sms", "allow_recipients": ["+4930*"]},
    "pager": {"type": "pagerduty"},
}
ROUTES = [
    {"name": "critical", "matchers": ['severity="critical"'], "channels": ["ops-slack", "pager"]},
    {
        "name": "db",
        "matchers": ['service="db"'],
        "channels": ["plain-email"],
        "recipients": ["dba@company.com"],
    },
    {"name": "default", "channels": ["ops-email"]},
]


def route(**fields: object):
    return Router(make_snapshot(channels=CHANNELS, routes=ROUTES)).route(request(**fields), NOW)


def test_a_recipient_the_patterns_allow_is_delivered() -> None:
    decision = route(recipients=["dev@Company.com"])
    assert decision.refused == ()
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [
        ("ops-email", "dev@Company.com")
    ]


def test_a_recipient_no_pattern_allows_rejects_the_whole_request() -> None:
    decision = route(recipients=["dev@company.com", "email:x@evil.com"])
    assert decision.deliveries == ()  # not even the allowed one, and no default in its place
    assert decision.refused == (
        "recipient 'email:x@evil.com' is not allowed on channel 'ops-email': not a known "
        "recipient and allow_recipients has no pattern for it",
    )
    assert decision.routes == ("default",)


def test_without_patterns_only_recipients_the_config_names_are_allowed() -> None:
    # plain-email has no allow_recipients: a route's recipient and a channel default pass.
    ok = route(channels=["plain-email"], recipients=["dba@company.com", "ops@company.com"])
    assert ok.refused == ()
    assert [d.recipient for d in ok.deliveries] == ["dba@company.com", "ops@company.com"]
    refused = route(channels=["plain-email"], recipients=["dev@company.com"])
    assert refused.deliveries == ()
    assert refused.refused == (
        "recipient 'dev@company.com' is not allowed on channel 'plain-email': not a known "
        "recipient and the channel sets no allow_recipients",
    )


def test_slack_and_sms_recipients_are_judged_by_their_own_channel() -> None:
    assert route(severity="critical", recipients=["#ops"]).refused == ()  # a default
    assert route(severity="critical", recipients=["#random"]).refused == (
        "recipient '#random' is not allowed on channel 'ops-slack': not a known recipient "
        "and the channel sets no allow_recipients",
    )
    assert route(channels=["text"], recipients=["+493012345"]).refused == ()
    assert route(channels=["text"], recipients=["+19005550100"]).refused != ()


def test_a_recipient_that_reaches_none_of_the_channels_is_not_judged() -> None:
    # An SMS number on e-mail and Slack channels goes nowhere, so it opens nothing either.
    decision = route(severity="critical", recipients=["#ops", "+19005550100"])
    assert decision.refused == ()
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [
        ("ops-slack", "#ops"),
        ("pager", None),
    ]


def test_routes_own_recipients_are_config_and_never_refused() -> None:
    decision = route(labels={"service": "db"})
    assert decision.refused == ()
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [
        ("plain-email", "dba@company.com")
    ]


@given(
    local=_LABEL,
    domain=_DOMAIN.filter(lambda d: d != "company.com" and not d.endswith(".company.com")),
)
def test_an_unknown_address_outside_the_patterns_is_never_delivered(
    local: str, domain: str
) -> None:
    decision = route(recipients=[f"{local}@{domain}"])
    assert decision.deliveries == ()
    assert decision.refused


# --- validate -------------------------------------------------------------------------------


def test_validate_locates_bad_patterns(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace(
        '    default_recipients: ["ops@company.com"]\n',
        '    default_recipients: ["ops@company.com"]\n'
        '    allow_recipients: ["*@company.com", "*@*", "#ops"]\n',
        1,
    ).replace(
        '  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}\n',
        '  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}", '
        'allow_recipients: ["*"]}\n',
    )
    assert findings(tmp_path, {"routes.yaml": routes}) == [
        "routes.yaml:11:41: invalid e-mail pattern '*@*': use *@company.com, *@*.company.com "
        "or an exact address such as ops@company.com (channel 'ops-email')",
        "routes.yaml:11:48: invalid e-mail pattern '#ops': use *@company.com, *@*.company.com "
        "or an exact address such as ops@company.com (channel 'ops-email')",
        "routes.yaml:12:69: pagerduty channel 'pager' delivers to its configured target and "
        "never to a request's recipients, so allow_recipients has no meaning here: remove it",
    ]


def test_validate_accepts_each_types_patterns(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace(
        '    default_recipients: ["#ops"]\n',
        '    default_recipients: ["#ops"]\n    allow_recipients: ["#team-*", "@*", "U*", "C0*"]\n',
        1,
    ).replace(
        '    default_recipients: ["ops@company.com"]\n',
        '    default_recipients: ["ops@company.com"]\n'
        '    allow_recipients: ["*@company.com", "*@*.company.com", "cto@partner.com", "*"]\n',
        1,
    )
    assert findings(tmp_path, {"routes.yaml": routes}) == []
