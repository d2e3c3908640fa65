"""Recipients: which channel a recipient reaches, explicitly or by its form, and defaults."""

from __future__ import annotations

import pytest

from notifierd.config.recipients import fits, recipient_form, split_recipient, unfit_recipients
from notifierd.routing.recipients import resolve
from tests.unit.builders import channel

SLACK = channel("ops-slack", "slack", ["#ops"])
EMAIL = channel("ops-email", "email", ["ops@company.com"])
SMS = channel("oncall-sms", "sms")
PAGER = channel("pager", "pagerduty")
TEAMS = channel("eng-teams", "teams")
AUDIT = channel("audit", "webhook")


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("#ops", "slack"),
        ("#incidents-2024", "slack"),
        ("@on-call-primary", "slack"),
        ("@alice", "slack"),
        ("ops@company.com", "email"),
        ("a@b.c", "email"),
        ("first.last+tag@sub.example.org", "email"),
        ("+4915112345678", "sms"),
        ("+14155550100", "sms"),
        ("4915112345678", None),  # E.164 needs the plus
        ("+0123", None),  # and no leading zero
        ("+1234567890123456", None),  # at most 15 digits
        ("@team@company.com", None),
        ("ops@localhost", None),
        ("#", None),
        ("@", None),
        ("ops", None),
        ("", None),
        ("# ops", None),
    ],
)
def test_recipient_form(text: str, form: str | None) -> None:
    assert recipient_form(text) == form


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("slack:#ops", ("slack", "#ops")),
        ("email:ops@x.com", ("email", "ops@x.com")),
        ("ops-email:ops@x.com", ("ops-email", "ops@x.com")),
        ("sms:+4915112345678", ("sms", "+4915112345678")),
        ("slack:U024BE7LH", ("slack", "U024BE7LH")),
        ("#ops", (None, "#ops")),
        ("#ops:x", (None, "#ops:x")),
        ("@alice", (None, "@alice")),
        ("ops@x.com", (None, "ops@x.com")),
        ("slack:", (None, "slack:")),
    ],
)
def test_split_recipient(text: str, split: tuple[str | None, str]) -> None:
    assert split_recipient(text) == split


def test_bare_recipients_fit_by_form() -> None:
    assert fits(SLACK, "#incidents") == "#incidents"
    assert fits(SLACK, "@alice") == "@alice"
    assert fits(SLACK, "ops@x.com") is None
    assert fits(EMAIL, "ops@x.com") == "ops@x.com"
    assert fits(EMAIL, "@alice") is None  # `@u` is Slack, `a@b.c` is e-mail
    assert fits(SMS, "+4915112345678") == "+4915112345678"
    assert fits(SMS, "#ops") is None


def test_explicit_recipients_fit_by_type_or_name_and_lose_the_prefix() -> None:
    assert fits(SLACK, "slack:#ops") == "#ops"
    assert fits(SLACK, "ops-slack:#ops") == "#ops"
    assert fits(SLACK, "slack:U024BE7LH") == "U024BE7LH"  # explicit: no form needed
    assert fits(EMAIL, "email:ops@x.com") == "ops@x.com"
    assert fits(EMAIL, "ops-email:ops@x.com") == "ops@x.com"
    assert fits(SLACK, "email:ops@x.com") is None
    assert fits(EMAIL, "other-email:ops@x.com") is None  # another channel's, by name
    assert fits(SLACK, "unknown:#ops") is None


@pytest.mark.parametrize("target", [PAGER, TEAMS, AUDIT])
def test_targeted_channels_take_no_recipient(target) -> None:
    assert target.targeted
    assert fits(target, "#ops") is None
    assert fits(target, f"{target.type}:anything") is None
    assert resolve([target], ["#ops", "ops@x.com"]) == [(target.name, None)]
    assert resolve([target], []) == [(target.name, None)]


def test_resolve_gives_each_channel_the_recipients_that_fit_it() -> None:
    pairs = resolve([SLACK, EMAIL, PAGER], ["#incidents", "@bob", "ops@x.com", "slack:#ops"])
    assert pairs == [
        ("ops-slack", "#incidents"),
        ("ops-slack", "@bob"),
        ("ops-slack", "#ops"),
        ("ops-email", "ops@x.com"),
        ("pager", None),
    ]


def test_a_channel_no_recipient_fits_gets_its_defaults() -> None:
    assert resolve([SLACK, EMAIL], ["#incidents"]) == [
        ("ops-slack", "#incidents"),
        ("ops-email", "ops@company.com"),
    ]
    assert resolve([SLACK], []) == [("ops-slack", "#ops")]


def test_a_channel_without_recipients_or_defaults_still_gets_one_delivery() -> None:
    # Recorded downstream as "no recipient" rather than vanishing.
    assert resolve([SMS], ["#ops"]) == [("oncall-sms", None)]


def test_resolve_drops_repeated_addresses_per_channel() -> None:
    assert resolve([SLACK], ["#ops", "slack:#ops", "ops-slack:#ops"]) == [("ops-slack", "#ops")]


def test_unfit_recipients() -> None:
    assert unfit_recipients(
        [SLACK, PAGER], ["#ops", "ops@x.com", "email:a@b.c", "+4915112345678"]
    ) == [
        "ops@x.com",
        "email:a@b.c",
        "+4915112345678",
    ]
    assert unfit_recipients([SLACK, EMAIL], ["#ops", "ops@x.com", "ops-email:a@b.c"]) == []
    assert unfit_recipients([PAGER], ["pager:x"]) == ["pager:x"]
