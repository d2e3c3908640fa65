"""Channel types in a request's ``channels`` ("slack", "email"): what they select, the
``default: true`` channel of a type, and validate's one-default-per-type rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifierd.routing.router import Router
from tests.unit.builders import EXAMPLE_CHANNELS, EXAMPLE_ROUTES, make_snapshot, request
from tests.unit.config_repo import findings, validate

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

CHANNELS: dict[str, dict[str, Any]] = {
    **EXAMPLE_CHANNELS,
    "eng-slack": {"type": "slack", "default_recipients": ["#engineering"]},
    "oncall-sms": {"type": "sms", "default_recipients": ["+15550100"], "default": True},
    "ops-email": {**EXAMPLE_CHANNELS["ops-email"], "default": True},
}
ROUTES = [*EXAMPLE_ROUTES[:-1], {"name": "default", "channels": ["ops-slack", "eng-slack"]}]


def route(**fields: Any) -> tuple[list[tuple[str, str | None]], tuple[str, ...]]:
    decision = Router(make_snapshot(CHANNELS, ROUTES)).route(request(**fields), NOW)
    return [(d.channel, d.recipient) for d in decision.deliveries], decision.refused


def test_a_type_selects_every_channel_of_that_type_the_routes_chose() -> None:
    assert route(channels=["slack"]) == (
        [("ops-slack", "#ops"), ("eng-slack", "#engineering")],
        (),
    )


def test_a_type_the_routes_did_not_choose_goes_to_its_default_channel() -> None:
    assert route(channels=["slack", "email"]) == (
        [("ops-slack", "#ops"), ("eng-slack", "#engineering"), ("ops-email", "ops@company.com")],
        (),
    )
    # The default is chosen only when the routes chose none of the type.
    assert route(priority="low", channels=["email"]) == ([("ops-email", "ops@company.com")], ())


def test_a_type_with_no_route_channel_and_no_default_rejects_the_whole_request() -> None:
    deliveries, refused = route(channels=["slack", "teams"])
    assert deliveries == []
    assert refused == (
        "no channel of type teams: the routes chose none and no teams channel is default: true",
    )


def test_a_channel_name_wins_over_a_type_of_the_same_spelling() -> None:
    channels = {**CHANNELS, "sms": {"type": "slack", "default_recipients": ["#sms"]}}
    decision = Router(make_snapshot(channels, ROUTES)).route(request(channels=["sms"]), NOW)
    assert [(d.channel, d.recipient) for d in decision.deliveries] == [("sms", "#sms")]


def test_names_and_types_mix_each_channel_once() -> None:
    assert route(channels=["eng-slack", "slack", "sms"]) == (
        [("eng-slack", "#engineering"), ("ops-slack", "#ops"), ("oncall-sms", "+15550100")],
        (),
    )


DEFAULTS = """\
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    default_recipients: ["#ops"]
    default: true
  eng-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    default_recipients: ["#eng"]
    default: %s
routes:
  - name: default
    channels: [ops-slack]
"""


def test_one_default_per_type_reaches_the_snapshot(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": DEFAULTS % "false"})
    assert result.problems == []
    assert result.snapshot is not None
    assert result.snapshot.channels["ops-slack"].default
    assert not result.snapshot.channels["eng-slack"].default
    assert "default" not in result.snapshot.channels["ops-slack"].settings


def test_two_defaults_of_one_type_are_located_naming_both(tmp_path: Path) -> None:
    assert findings(tmp_path, {"routes.yaml": DEFAULTS % "true"}) == [
        "routes.yaml:11:14: channels 'ops-slack' and 'eng-slack' are both the default slack "
        "channel; a request naming the type 'slack' needs one: keep default: true on one"
    ]
