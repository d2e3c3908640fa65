"""Run-time silences and overrides, the pure parts: when a silence applies (times compared on
every check), what a run-time override wins over, the rules a request for one must meet, and
the config's bound on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifierd.active import Active
from notifierd.config.matchers import parse_matcher
from notifierd.config.model import Layer, Override, Schedule
from notifierd.request import Request
from notifierd.routing.silences import Silence, Silences
from notifierd.runtime.changes import (
    Actor,
    NotGranted,
    RuntimeChanges,
    check_bound,
    check_matchers,
    end_of,
)
from notifierd.schedules.oncall import describe, on_call
from notifierd.schedules.runtime import RuntimeOverride, with_overrides
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def request(**labels: str) -> Request:
    return Request.from_dict({"title": "t", "message": "m", "labels": labels})


def silence(id_: int = 1, *matchers: str, start: datetime = NOW, end: datetime = NOW + HOUR):
    texts = matchers or ('service="db"',)
    return Silence(id_, tuple(map(parse_matcher, texts)), start, end, "failover", "person:alice")


def test_a_silence_applies_from_its_start_until_its_end_by_the_clock_alone() -> None:
    silences = Silences((silence(),))
    db = request(service="db")
    assert silences.match(db, NOW - timedelta(seconds=1)) is None
    assert silences.match(db, NOW) is not None
    assert silences.match(db, NOW + HOUR - timedelta(microseconds=1)) is not None
    assert silences.match(db, NOW + HOUR) is None  # ends by itself, no refresh needed
    assert silences.match(request(service="web"), NOW) is None


def test_every_matcher_must_match_and_the_oldest_silence_answers() -> None:
    silences = Silences((silence(1, 'service="db"', 'env="prod"'), silence(2, 'service="db"')))
    found = silences.match(request(service="db", env="prod"), NOW)
    assert found is not None and found.name == "silence:1"
    found = silences.match(request(service="db", env="dev"), NOW)
    assert found is not None and found.id == 2


MATCHERS = [
    'service="db"',
    'service="web"',
    'service!="db"',
    'env="prod"',
    'env=~"prod|staging"',
    'env!~"dev.*"',
    'tags="deploy"',
    'severity="critical"',
]


@settings(max_examples=200, deadline=None)
@given(
    chosen=st.lists(st.lists(st.sampled_from(MATCHERS), min_size=1, max_size=3), max_size=8),
    spans=st.lists(st.integers(-2, 2), min_size=8, max_size=8),
    service=st.sampled_from(["db", "web", ""]),
    env=st.sampled_from(["prod", "staging", "dev1", ""]),
    severity=st.sampled_from(["critical", "info", None]),
    tags=st.lists(st.sampled_from(["deploy", "ci"]), max_size=2),
)
def test_the_index_answers_as_checking_every_silence_in_order(
    chosen: list[list[str]],
    spans: list[int],
    service: str,
    env: str,
    severity: str | None,
    tags: list[str],
) -> None:
    held = tuple(
        silence(i + 1, *texts, start=NOW + spans[i] * HOUR, end=NOW + (spans[i] + 2) * HOUR)
        for i, texts in enumerate(chosen)
    )
    data: dict[str, object] = {"title": "t", "labels": {"service": service, "env": env}}
    if severity:
        data["severity"] = severity
    if tags:
        data["tags"] = tags
    req = Request.from_dict(data)
    naive = next((s for s in held if s.starts_at <= NOW < s.ends_at and s.matches(req)), None)
    assert Silences(held).match(req, NOW) == naive


def test_the_router_names_a_run_time_silence_after_the_configs_windows(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES})
    assert result.snapshot is not None
    active = Active.of(result.snapshot).with_runtime(Silences((silence(),)), ())
    decision = active.router.route(request(service="db"), NOW, active.silences)
    assert decision.suppressed_by == "silence:1"
    assert decision.silenced_by is not None and decision.silenced_by.reason == "failover"
    assert decision.silenced_by.describe().startswith("run-time silence 1 by person:alice until")
    plain = active.router.route(request(service="db"), NOW)  # config tests: the config alone
    assert plain.suppressed_by is None and plain.silenced_by is None


def layered(*overrides: Override) -> Schedule:
    layer = Layer("weekly", ("alice",), 7 * 86400, datetime(2026, 11, 23, 9, 0))
    return Schedule("primary", "Primary", "UTC", (layer,), overrides)


def runtime(id_: int, person: str, start: datetime, end: datetime) -> RuntimeOverride:
    return RuntimeOverride(
        person, start, end, "cover", id=id_, schedule="primary", created_by="cli:bo"
    )


def test_a_run_time_override_wins_over_layers_and_config_overrides_then_ends() -> None:
    config_override = Override("carol", NOW - HOUR, NOW + 3 * HOUR, "holiday swap")
    schedules = {"primary": layered(config_override), "other": layered()}
    merged = with_overrides(schedules, [runtime(2, "dave", NOW, NOW + HOUR)])
    primary = merged["primary"]
    assert merged["other"] is schedules["other"]  # untouched
    assert on_call(primary, NOW - timedelta(minutes=1)).person == "carol"
    shift = on_call(primary, NOW)
    assert (shift.person, shift.start, shift.end) == ("dave", NOW, NOW + HOUR)
    assert describe(shift.source) == "runtime override 2 by cli:bo: cover"
    assert on_call(primary, NOW + HOUR).person == "carol"  # back where the config said


def test_the_newest_run_time_override_wins_where_two_overlap() -> None:
    older, newer = runtime(1, "bob", NOW, NOW + 2 * HOUR), runtime(5, "dave", NOW, NOW + HOUR)
    merged = with_overrides({"primary": layered()}, [newer, older])  # read in any order
    assert on_call(merged["primary"], NOW).person == "dave"
    assert on_call(merged["primary"], NOW + HOUR).person == "bob"


def test_an_override_of_a_schedule_the_config_dropped_is_left_out() -> None:
    schedules = {"primary": layered()}
    assert with_overrides(schedules, [RuntimeOverride("x", NOW, NOW + HOUR, schedule="gone")]) is (
        schedules
    )


@pytest.mark.parametrize(
    ("matchers", "wrong"),
    [
        ([], "at least one matcher"),
        (['service!="db"'], "silence everything"),
        (['service=~".*"'], "silence everything"),
        (["service=~'('"], "invalid regular expression"),
        (["what"], "invalid matcher"),
    ],
)
def test_matchers_parse_as_the_configs_and_must_name_something(
    matchers: list[str], wrong: str
) -> None:
    with pytest.raises(NotGranted, match=wrong):
        check_matchers(matchers)


def test_matchers_are_stored_in_their_canonical_form() -> None:
    assert check_matchers(["service=db", 'env!="dev"']) == ['service="db"', 'env!="dev"']


def test_the_bound_names_its_setting_and_zero_turns_the_kind_off() -> None:
    end = end_of(NOW, None, "25h", "silence")
    with pytest.raises(NotGranted, match=r"at most 1d \(settings.runtime.max_silence"):
        check_bound(NOW, end, 86400, "silence", "max_silence")
    with pytest.raises(NotGranted, match="turned off"):
        check_bound(NOW, NOW + HOUR, 0, "override", "max_override")
    with pytest.raises(NotGranted, match="in the future"):
        check_bound(NOW, NOW - HOUR, 86400, "silence", "max_silence")
    check_bound(NOW, NOW + 24 * HOUR, 86400, "silence", "max_silence")  # the bound itself is fine
    for bad in ("99999999d", "9" * 400 + "s", "5x"):
        with pytest.raises(NotGranted):
            end_of(NOW, None, bad, "silence")
    with pytest.raises(NotGranted, match=r"until .* or duration"):
        end_of(NOW, NOW + HOUR, "1h", "silence")


def test_settings_runtime_defaults_bounds_and_nonsense(tmp_path: Path) -> None:
    plain = validate(tmp_path / "plain", {"routes.yaml": MINIMAL_ROUTES})
    assert plain.snapshot is not None
    assert (plain.snapshot.settings.max_silence, plain.snapshot.settings.max_override) == (
        86400,
        7 * 86400,
    )
    routes = "settings:\n  runtime: {max_silence: 0s, max_override: 12h}\n" + MINIMAL_ROUTES
    tuned = validate(tmp_path / "tuned", {"routes.yaml": routes})
    assert tuned.snapshot is not None
    assert (tuned.snapshot.settings.max_silence, tuned.snapshot.settings.max_override) == (
        0,
        43200,
    )
    bad = "settings:\n  runtime: {max_silence: 400d, max_override: soon}\n" + MINIMAL_ROUTES
    found = findings(tmp_path / "bad", {"routes.yaml": bad})
    assert any("routes.yaml:2:" in f and "longer than 366d" in f for f in found), found
    assert any("routes.yaml:2:" in f and "max_override" in f for f in found), found


async def test_an_override_may_not_start_beyond_its_bound(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        {"routes.yaml": MINIMAL_ROUTES + "people:\n  bob: {contacts: [{email: b@c.de}]}\n"},
    )
    assert result.snapshot is not None
    schedules = {"primary": layered()}
    snapshot = replace(result.snapshot, schedules=schedules)
    changes = RuntimeChanges(None, None, lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(NotGranted, match="cannot start at 9999"):
        await changes.add_override(
            snapshot,
            Actor("person:alice", "http"),
            "primary",
            "bob",
            "far",
            starts_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
            duration="2h",
        )
