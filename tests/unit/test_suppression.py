"""Suppression windows: fixed and cron windows, DST in Europe/Berlin, matchers, window ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifierd.config.cron import parse_cron
from notifierd.config.model import Suppression
from notifierd.routing.router import Router
from notifierd.routing.suppression import Window, window_ends_at
from tests.unit.builders import example_snapshot, make_snapshot, make_suppression, request

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def recurring(cron: str, hours: float, tz: str = "Europe/Berlin") -> Suppression:
    return Suppression(name="w", cron=cron, duration=hours * 3600, timezone=tz)


def fires(cron: str, start: datetime, count: int, tz: str = "Europe/Berlin") -> list[datetime]:
    schedule = parse_cron(cron, tz)
    out = []
    at = start
    for _ in range(count):
        fire = schedule.next_fire(at)
        assert fire is not None
        out.append(fire)
        at = fire + timedelta(microseconds=1)
    return out


# --- fixed windows -------------------------------------------------------------------------


def test_fixed_window_includes_start_and_excludes_end() -> None:
    win = Window(
        make_suppression(
            {"name": "m", "start": utc("2026-12-01T00:00"), "end": utc("2026-12-01T04:00")}
        )
    )
    assert not win.contains(utc("2026-11-30T23:59:59"))
    assert win.contains(utc("2026-12-01T00:00"))
    assert win.contains(utc("2026-12-01T03:59:59.999999"))
    assert not win.contains(utc("2026-12-01T04:00"))


def test_fixed_window_compares_instants_across_zones() -> None:
    win = Window(
        make_suppression(
            {"name": "m", "start": utc("2026-12-01T00:00"), "end": utc("2026-12-01T04:00")}
        )
    )
    assert win.contains(berlin("2026-12-01T01:30"))  # 00:30 UTC
    assert not win.contains(berlin("2026-12-01T00:30"))  # 23:30 UTC the day before


def test_naive_times_mean_utc() -> None:
    win = Window(
        make_suppression(
            {"name": "m", "start": datetime(2026, 12, 1), "end": datetime(2026, 12, 1, 4)}
        )
    )
    assert win.contains(utc("2026-12-01T01:00"))
    assert win.contains(datetime(2026, 12, 1, 1))


def test_fixed_window_end() -> None:
    s = make_suppression(
        {"name": "m", "start": utc("2026-12-01T00:00"), "end": utc("2026-12-01T04:00")}
    )
    assert window_ends_at(s, utc("2026-12-01T01:00")) == utc("2026-12-01T04:00")
    assert window_ends_at(s, utc("2026-12-01T05:00")) is None


# --- cron windows --------------------------------------------------------------------------


def test_weekly_maintenance_in_winter() -> None:
    win = Window(recurring("0 2 * * SAT", 4))  # 02:00-06:00 Berlin = 01:00-05:00 UTC in winter
    assert not win.contains(utc("2026-01-10T00:59:59"))
    assert win.contains(utc("2026-01-10T01:00"))
    assert win.contains(utc("2026-01-10T04:59:59"))
    assert not win.contains(utc("2026-01-10T05:00"))
    assert not win.contains(utc("2026-01-11T02:00"))  # Sunday


def test_weekly_maintenance_keeps_local_time_across_the_spring_change() -> None:
    # Clocks go forward on Sunday 29 March 2026; the Saturdays either side differ in UTC.
    assert fires("0 2 * * SAT", utc("2026-03-27T00:00"), 2) == [
        utc("2026-03-28T01:00"),  # 02:00 CET
        utc("2026-04-04T00:00"),  # 02:00 CEST
    ]
    win = Window(recurring("0 2 * * SAT", 4))
    assert win.contains(utc("2026-03-28T04:30"))
    assert not win.contains(utc("2026-03-28T05:00"))
    assert win.contains(utc("2026-04-04T00:00"))
    assert not win.contains(utc("2026-04-04T04:00"))
    assert not win.contains(utc("2026-04-03T23:59"))


def test_a_wall_time_in_the_spring_gap_fires_when_the_clocks_jump() -> None:
    # 02:30 does not exist on 29 March 2026 in Berlin: it fires at 03:00 CEST, like cronie.
    assert fires("30 2 * * SUN", utc("2026-03-28T00:00"), 2) == [
        utc("2026-03-29T01:00"),
        utc("2026-04-05T00:30"),
    ]
    win = Window(recurring("30 2 * * SUN", 1))
    assert not win.contains(utc("2026-03-29T00:59"))
    assert win.contains(utc("2026-03-29T01:00"))
    assert win.contains(berlin("2026-03-29T03:59"))
    assert not win.contains(berlin("2026-03-29T04:00"))


def test_every_half_hour_through_the_spring_gap() -> None:
    got = fires("*/30 * * * *", utc("2026-03-29T00:00"), 4)
    # 01:00 CET, 01:30 CET, then the gap's 02:00 and 02:30 both fire at the jump, once.
    assert got == [
        utc("2026-03-29T00:00"),
        utc("2026-03-29T00:30"),
        utc("2026-03-29T01:00"),
        utc("2026-03-29T01:30"),
    ]
    assert [f.astimezone(BERLIN).strftime("%H:%M") for f in got] == [
        "01:00",
        "01:30",
        "03:00",
        "03:30",
    ]


def test_a_repeated_autumn_wall_time_fires_once() -> None:
    # Clocks go back on Sunday 25 October 2026: 02:30 happens at 00:30 and at 01:30 UTC.
    assert fires("30 2 * * SUN", utc("2026-10-24T00:00"), 2) == [
        utc("2026-10-25T00:30"),  # 02:30 CEST, the first occurrence
        utc("2026-11-01T01:30"),  # next week, 02:30 CET
    ]
    win = Window(recurring("30 2 * * SUN", 1))
    assert win.contains(utc("2026-10-25T01:00"))
    assert not win.contains(utc("2026-10-25T01:30"))  # the second 02:30 opens no window
    assert not win.contains(utc("2026-10-25T02:00"))


def test_every_half_hour_through_the_autumn_repeat() -> None:
    got = fires("*/30 * * * *", utc("2026-10-24T23:30"), 5)
    assert got == [
        utc("2026-10-24T23:30"),  # 01:30 CEST
        utc("2026-10-25T00:00"),  # 02:00 CEST
        utc("2026-10-25T00:30"),  # 02:30 CEST
        utc("2026-10-25T02:00"),  # 03:00 CET: the repeated 02:00 and 02:30 do not fire again
        utc("2026-10-25T02:30"),
    ]


def test_duration_is_elapsed_time() -> None:
    # 01:00 CET + 4h crosses the spring change: the window ends at 06:00 CEST on the wall.
    win = Window(recurring("0 1 * * SUN", 4))
    assert win.contains(berlin("2026-03-29T05:59"))
    assert not win.contains(berlin("2026-03-29T06:00"))


def test_cron_in_utc() -> None:
    win = Window(recurring("0 2 * * SAT", 4, tz="UTC"))
    assert win.contains(utc("2026-03-28T02:00"))
    assert not win.contains(utc("2026-03-28T06:00"))


def test_cron_weekday_numbers_follow_crontab() -> None:
    saturday = fires("0 2 * * SAT", utc("2026-01-01T00:00"), 3, tz="UTC")
    assert fires("0 2 * * 6", utc("2026-01-01T00:00"), 3, tz="UTC") == saturday
    sunday = fires("0 2 * * SUN", utc("2026-01-01T00:00"), 3, tz="UTC")
    assert fires("0 2 * * 0", utc("2026-01-01T00:00"), 3, tz="UTC") == sunday
    assert fires("0 2 * * 7", utc("2026-01-01T00:00"), 3, tz="UTC") == sunday
    weekdays = fires("0 9 * * 1-5", utc("2026-01-05T00:00"), 5, tz="UTC")  # from a Monday
    assert [d.strftime("%a") for d in weekdays] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    weekend = fires("0 9 * * 5-0", utc("2026-01-05T00:00"), 3, tz="UTC")
    assert [d.strftime("%a") for d in weekend] == ["Fri", "Sat", "Sun"]


def test_day_of_month_and_weekday_combine_with_or_as_in_crontab() -> None:
    got = fires("0 0 1 * MON", utc("2026-05-28T00:00"), 3, tz="UTC")
    # Monday 1 June is both; Friday 29 May is neither; Monday 8 June is a Monday.
    assert got == [utc("2026-06-01T00:00"), utc("2026-06-08T00:00"), utc("2026-06-15T00:00")]
    got = fires("0 0 1 * MON", utc("2026-06-28T00:00"), 2, tz="UTC")
    assert got == [utc("2026-06-29T00:00"), utc("2026-07-01T00:00")]


def test_cron_macros() -> None:
    assert fires("@daily", utc("2026-01-01T12:00"), 1, tz="UTC") == [utc("2026-01-02T00:00")]


def test_back_to_back_windows_end_when_the_chain_does() -> None:
    s = recurring("0 */2 * * *", 3, tz="UTC")  # each window overlaps the next
    assert window_ends_at(s, utc("2026-01-01T01:00")) is None  # an end is not in sight
    s = recurring("0 2,4 * * *", 2, tz="UTC")  # 02-04 then 04-06: one stretch
    assert window_ends_at(s, utc("2026-01-01T03:00")) == utc("2026-01-01T06:00")
    assert window_ends_at(s, utc("2026-01-01T07:00")) is None


def test_window_ends_at_for_the_example_config() -> None:
    maintenance = example_snapshot().suppressions[0]
    assert window_ends_at(maintenance, utc("2026-03-28T02:00")) == utc("2026-03-28T05:00")


@pytest.mark.parametrize(
    ("expr", "tz", "message"),
    [
        ("0 2 * *", "UTC", "expected 5 fields"),
        ("0 2 * * SAT extra", "UTC", "got 6"),
        ("61 * * * *", "UTC", "bad minute field '61'"),
        ("0 24 * * *", "UTC", "bad hour field '24'"),
        ("0 0 * * FUNDAY", "UTC", "bad day-of-week field"),
        ("0 0 * * 8", "UTC", "bad day-of-week field '8'"),
        ("0 0 * * 5-1", "UTC", "runs backwards"),
        ("0 0 * foo *", "UTC", "bad month field"),
        ("0 0 30 2 *", "UTC", "never fires"),
        ("0 2 * * SAT", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("0 2 * * SAT", "../etc/passwd", "unknown time zone"),
    ],
)
def test_parse_cron_errors_are_clear(expr: str, tz: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_cron(expr, tz)


# --- matching requests ---------------------------------------------------------------------


def test_suppression_needs_matchers_and_window() -> None:
    router = Router(example_snapshot())
    inside = utc("2026-12-01T01:00")
    found = router.suppression(request(labels={"service": "db"}), inside)
    assert found is not None and found.name == "db-migration"
    assert router.suppression(request(labels={"service": "web"}), inside) is None
    assert router.suppression(request(labels={"service": "db"}), utc("2026-12-01T05:00")) is None
    maintenance = request(source="maintenance:db")
    found = router.suppression(maintenance, utc("2026-12-05T02:00"))
    assert found is not None and found.name == "weekly-maintenance"
    assert router.suppression(maintenance, utc("2026-12-06T02:00")) is None


def test_first_suppression_in_force_wins() -> None:
    both = [
        {"name": "first", "start": utc("2026-01-01T00:00"), "end": utc("2027-01-01T00:00")},
        {"name": "second", "cron": "* * * * *", "duration": 3600},
    ]
    router = Router(make_snapshot(suppressions=both))
    first = router.suppression(request(), utc("2026-06-01T00:00"))
    assert first is not None and first.name == "first"
    second = router.suppression(request(), utc("2027-06-01T00:00"))
    assert second is not None and second.name == "second"


def test_zero_duration_never_suppresses() -> None:
    assert not Window(recurring("* * * * *", 0)).contains(utc("2026-01-01T00:00"))


# --- properties ----------------------------------------------------------------------------

# The days of 2026 around both Berlin DST changes, where caching and mapping are subtle.
_instants = st.sampled_from([utc("2026-03-28T12:00"), utc("2026-10-24T12:00")]).flatmap(
    lambda base: st.integers(0, 36 * 60).map(lambda m: base + timedelta(minutes=m))
)

_CRONS = ["*/30 * * * *", "30 2 * * *", "0 1-3 * * *", "15 2 * * SUN", "45 */2 * * *"]


def _cron_fields_match(expr: str, wall: datetime) -> bool:
    """An independent reading of the few cron shapes in ``_CRONS``."""
    minute, hour, _, _, dow = expr.split()

    def field(spec: str, value: int) -> bool:
        if spec == "*":
            return True
        if spec.startswith("*/"):
            return value % int(spec[2:]) == 0
        if "-" in spec:
            lo, hi = map(int, spec.split("-"))
            return lo <= value <= hi
        return value == int(spec)

    day_ok = dow == "*" or wall.strftime("%a").upper() == dow
    return field(minute, wall.minute) and field(hour, wall.hour) and day_ok


def _fires_at(expr: str, instant: datetime) -> bool:
    """Does a fire happen at ``instant`` (a whole minute), by the documented DST rules?"""
    local = instant.astimezone(BERLIN)
    if _cron_fields_match(expr, local) and local.fold == 0:
        return True
    before = (instant - timedelta(minutes=1)).astimezone(BERLIN)
    jump = local.utcoffset() - before.utcoffset()
    if jump > timedelta(0):  # the clocks just jumped: the skipped wall times fire now
        skipped = int(jump.total_seconds() // 60)
        naive = before.replace(tzinfo=None)
        return any(
            _cron_fields_match(expr, naive + timedelta(minutes=k)) for k in range(1, skipped + 1)
        )
    return False


@settings(max_examples=150, deadline=None)
@given(expr=st.sampled_from(_CRONS), now=_instants, hours=st.sampled_from([0.5, 1, 2]))
def test_cron_window_agrees_with_a_minute_by_minute_oracle(
    expr: str, now: datetime, hours: float
) -> None:
    duration = timedelta(hours=hours)
    minutes = int(duration.total_seconds() // 60)
    expected = any(_fires_at(expr, now - timedelta(minutes=k)) for k in range(minutes))
    assert Window(recurring(expr, hours)).contains(now) is expected


@settings(max_examples=60, deadline=None)
@given(expr=st.sampled_from(_CRONS), moments=st.lists(_instants, min_size=2, max_size=12))
def test_the_window_cache_never_changes_an_answer(expr: str, moments: list[datetime]) -> None:
    cached = Window(recurring(expr, 1))
    for moment in moments:  # in any order, backwards too
        assert cached.contains(moment) is Window(recurring(expr, 1)).contains(moment)
