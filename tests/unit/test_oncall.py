"""Who is on call: rotation on the wall clock across DST, restrictions, layers, overrides, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from notifierd.config.model import Layer, Override, Restriction, Schedule
from notifierd.config.wallclock import to_instant
from notifierd.schedules.oncall import Shift, describe, on_call, shifts

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
WEEK = 7 * 86400.0
WEEKDAYS = frozenset(range(5))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def weekly(
    members: tuple[str, ...] = ("alice", "bob", "carol"),
    start: datetime = datetime(2026, 1, 5, 9, 0),  # a Monday
    rotation: float = WEEK,
    restrict: tuple[Restriction, ...] = (),
    name: str = "weekly",
) -> Layer:
    return Layer(name, members, rotation, start, restrict)


def schedule(*layers: Layer, zone: str = BERLIN, overrides: tuple[Override, ...] = ()) -> Schedule:
    return Schedule("primary", "Primary", zone, layers or (weekly(),), overrides)


def who(s: Schedule, at: datetime) -> str | None:
    return on_call(s, at).person


def test_members_take_turns_from_the_layer_start() -> None:
    s = schedule()
    assert who(s, utc(2026, 1, 5, 8, 0)) == "alice"  # 09:00 Berlin (UTC+1)
    assert who(s, utc(2026, 1, 12, 7, 59)) == "alice"
    assert who(s, utc(2026, 1, 12, 8, 0)) == "bob"
    assert who(s, utc(2026, 1, 19, 8, 0)) == "carol"
    assert who(s, utc(2026, 1, 26, 8, 0)) == "alice"


def test_nobody_before_the_layer_starts() -> None:
    shift = on_call(schedule(), utc(2026, 1, 5, 7, 59))
    assert (shift.person, shift.source, shift.end) == (None, None, utc(2026, 1, 5, 8, 0))


def test_the_shift_in_force_has_its_bounds_and_its_source() -> None:
    s = schedule()
    shift = on_call(s, utc(2026, 1, 14, 3, 0))
    assert shift == Shift("bob", utc(2026, 1, 12, 8, 0), utc(2026, 1, 19, 8, 0), s.layers[0])
    assert describe(shift.source) == "layer weekly"


def test_a_monday_handoff_stays_at_0900_in_berlin_across_spring_forward_and_fall_back() -> None:
    s = schedule()
    # 2026-03-29 clocks go forward: the handoff of Monday 30 March is 09:00 CEST = 07:00 UTC.
    assert who(s, utc(2026, 3, 30, 6, 59)) == "carol"
    assert who(s, utc(2026, 3, 30, 7, 0)) == "alice"
    # 2026-10-25 clocks go back: Monday 26 October 09:00 CET = 08:00 UTC.
    handoff = on_call(s, utc(2026, 10, 26, 8, 0))
    assert handoff.start == utc(2026, 10, 26, 8, 0)
    assert on_call(s, utc(2026, 10, 26, 7, 59)).end == utc(2026, 10, 26, 8, 0)


def test_a_week_across_a_dst_change_lasts_a_wall_clock_week() -> None:
    s = schedule()
    spring = on_call(s, utc(2026, 3, 28))
    assert spring.end - spring.start == timedelta(days=7, hours=-1)
    autumn = on_call(s, utc(2026, 10, 24))
    assert autumn.end - autumn.start == timedelta(days=7, hours=1)


def test_daily_handoffs_keep_local_time_in_new_york() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    s = schedule(weekly(("ann", "ben"), datetime(2026, 3, 1, 8, 0), 86400.0), zone=NEW_YORK)
    assert on_call(s, utc(2026, 3, 7, 14)).start == utc(2026, 3, 7, 13, 0)  # 08:00 EST
    assert on_call(s, utc(2026, 3, 8, 14)).start == utc(2026, 3, 8, 12, 0)  # 08:00 EDT
    assert on_call(s, utc(2026, 11, 1, 14)).start == utc(2026, 11, 1, 13, 0)  # 08:00 EST


def test_a_handoff_in_the_skipped_hour_happens_when_the_clocks_jump() -> None:
    s = schedule(weekly(("ann", "ben"), datetime(2026, 3, 1, 2, 30), 86400.0), zone=NEW_YORK)
    # 02:30 does not exist on 8 March: the handoff is at the jump, 03:00 EDT = 07:00 UTC.
    assert on_call(s, utc(2026, 3, 8, 7, 0)).start == utc(2026, 3, 8, 7, 0)
    assert on_call(s, utc(2026, 3, 8, 6, 59)).end == utc(2026, 3, 8, 7, 0)


def test_a_handoff_in_the_repeated_hour_happens_at_its_first_reading() -> None:
    s = schedule(weekly(("ann", "ben"), datetime(2026, 10, 20, 1, 30), 86400.0), zone=NEW_YORK)
    # 01:30 is read twice on 1 November: first at 05:30 UTC (EDT), again at 06:30 UTC (EST).
    assert on_call(s, utc(2026, 11, 1, 5, 30)).start == utc(2026, 11, 1, 5, 30)
    assert on_call(s, utc(2026, 11, 1, 6, 45)).start == utc(2026, 11, 1, 5, 30)


def test_restrictions_hide_hours_and_never_shift_the_rotation() -> None:
    office = Restriction(WEEKDAYS, time(9), time(17))
    s = schedule(weekly(("erin", "frank"), restrict=(office,), name="office"))
    assert who(s, utc(2026, 1, 6, 7, 59)) is None  # Tuesday 08:59 Berlin
    assert who(s, utc(2026, 1, 6, 8, 0)) == "erin"
    assert who(s, utc(2026, 1, 10, 12)) is None  # Saturday
    # Frank's week starts Monday 12 January 09:00 whatever the windows hide.
    assert on_call(s, utc(2026, 1, 12, 10)) == Shift(
        "frank", utc(2026, 1, 12, 8), utc(2026, 1, 12, 16), s.layers[0]
    )


def test_an_overnight_window_belongs_to_the_day_it_starts() -> None:
    nights = Restriction(frozenset({4}), time(22), time(6))  # Friday 22:00 -> Saturday 06:00
    s = schedule(weekly(("nina",), restrict=(nights,), name="nights"))
    assert who(s, utc(2026, 1, 9, 20, 59)) is None  # Friday 21:59 Berlin
    assert who(s, utc(2026, 1, 10, 4, 59)) == "nina"  # Saturday 05:59
    assert who(s, utc(2026, 1, 10, 5, 0)) is None
    assert who(s, utc(2026, 1, 10, 23)) is None  # Saturday night is not Friday's window
    assert who(s, utc(2026, 1, 9, 0, 30)) is None  # Thursday night is not listed


def test_a_later_layer_wins_where_it_has_someone() -> None:
    office = Restriction(WEEKDAYS, time(9), time(17))
    s = schedule(weekly(), weekly(("erin",), restrict=(office,), name="office"))
    assert who(s, utc(2026, 1, 6, 10)) == "erin"
    assert who(s, utc(2026, 1, 6, 17)) == "alice"
    pieces = shifts(s, utc(2026, 1, 6), utc(2026, 1, 7))
    assert [(p.person, p.start.hour, p.end.hour, describe(p.source)) for p in pieces] == [
        ("alice", 0, 8, "layer weekly"),
        ("erin", 8, 16, "layer office"),
        ("alice", 16, 0, "layer weekly"),
    ]


def test_overrides_win_over_every_layer_local_time_or_offset() -> None:
    local = Override("dave", utc(2026, 1, 6, 23), utc(2026, 1, 9, 23), "holiday swap")
    later = Override("erin", utc(2026, 1, 8, 12), utc(2026, 1, 8, 13))
    s = schedule(overrides=(local, later))
    assert who(s, utc(2026, 1, 6, 22, 59)) == "alice"
    assert on_call(s, utc(2026, 1, 7)) == Shift(
        "dave", utc(2026, 1, 6, 23), utc(2026, 1, 8, 12), local
    )
    assert who(s, utc(2026, 1, 8, 12, 30)) == "erin"  # the later of two overlapping overrides
    assert describe(local) == "override (holiday swap)"
    # dave's override resumes after erin's and is one shift again in the listing.
    listing = shifts(s, utc(2026, 1, 6), utc(2026, 1, 11))
    assert [(p.person, p.start, p.end) for p in listing] == [
        ("alice", utc(2026, 1, 6), utc(2026, 1, 6, 23)),
        ("dave", utc(2026, 1, 6, 23), utc(2026, 1, 8, 12)),
        ("erin", utc(2026, 1, 8, 12), utc(2026, 1, 8, 13)),
        ("dave", utc(2026, 1, 8, 13), utc(2026, 1, 9, 23)),
        ("alice", utc(2026, 1, 9, 23), utc(2026, 1, 11)),
    ]


def test_gaps_are_listed_as_nobody() -> None:
    office = Restriction(frozenset({0}), time(9), time(17))
    s = schedule(weekly(("erin",), restrict=(office,), name="office"))
    listing = shifts(s, utc(2026, 1, 5), utc(2026, 1, 6))
    assert [(p.person, p.start.hour, p.end.hour) for p in listing] == [
        (None, 0, 8),
        ("erin", 8, 16),
        (None, 16, 0),
    ]


def test_a_lone_member_is_one_shift_across_handoffs() -> None:
    s = schedule(weekly(("solo",), rotation=86400.0))
    shift = on_call(s, utc(2026, 2, 1))
    assert (shift.person, shift.start) == ("solo", utc(2026, 1, 5, 8))


# --- against a slow reference that walks the definitions, in two zones, over DST and a leap day

_ZONES = [BERLIN, NEW_YORK]
_AROUND = [
    datetime(2026, 3, 8),  # New York springs forward
    datetime(2026, 3, 29),  # Berlin springs forward
    datetime(2026, 10, 25),  # Berlin falls back
    datetime(2026, 11, 1),  # New York falls back
    datetime(2028, 2, 29),  # a leap day
]


def _reference(s: Schedule, at: datetime) -> str | None:
    for override in reversed(s.overrides):
        if override.start <= at < override.end:
            return override.person
    zone = ZoneInfo(s.timezone)
    for layer in reversed(s.layers):
        turn, person = 0, None
        while to_instant(layer.start + timedelta(seconds=turn * layer.rotation), zone) <= at:
            person = layer.members[turn % len(layer.members)]
            turn += 1
        if person is None:
            continue
        if layer.restrict and not _in_window(layer.restrict, zone, at):
            continue
        return person
    return None


def _in_window(restrict: tuple[Restriction, ...], zone: ZoneInfo, at: datetime) -> bool:
    day = at.astimezone(zone).date()
    for d in (day - timedelta(days=2), day - timedelta(days=1), day, day + timedelta(days=1)):
        for w in restrict:
            if d.weekday() in w.days:
                end_day = d + timedelta(days=1) if w.end <= w.start else d
                start = to_instant(datetime.combine(d, w.start), zone)
                end = to_instant(datetime.combine(end_day, w.end), zone)
                if start <= at < end:
                    return True
    return False


_clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
_windows = st.lists(
    st.builds(Restriction, st.frozensets(st.integers(0, 6), min_size=1), _clock, _clock),
    max_size=2,
)


@st.composite
def _schedules(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    zone = draw(st.sampled_from(_ZONES))
    around = draw(st.sampled_from(_AROUND))
    layers = []
    for i in range(draw(st.integers(1, 3))):
        start = around - timedelta(hours=draw(st.integers(0, 24 * 20)))
        layers.append(
            Layer(
                f"l{i}",
                tuple(draw(st.lists(st.sampled_from("abcd"), min_size=1, max_size=3))),
                draw(st.sampled_from([1800.0, 3600.0, 8 * 3600.0, 86400.0, WEEK])),
                start.replace(minute=draw(st.sampled_from([0, 30]))),
                tuple(draw(_windows)),
            )
        )
    overrides = []
    for _ in range(draw(st.integers(0, 2))):
        begin = to_instant(around, ZoneInfo(zone)) + timedelta(hours=draw(st.integers(-48, 48)))
        overrides.append(
            Override(
                draw(st.sampled_from("xyz")),
                begin,
                begin + timedelta(minutes=draw(st.integers(1, 3000))),
            )
        )
    s = Schedule("s", "S", zone, tuple(layers), tuple(overrides))
    return s, to_instant(around, ZoneInfo(zone)) - timedelta(days=2)


@settings(max_examples=50, deadline=None)
@given(_schedules(), st.lists(st.integers(0, 4 * 24 * 60 - 1), min_size=5, max_size=20))
def test_shifts_and_on_call_agree_with_the_reference(
    case: tuple[Schedule, datetime], minutes: list[int]
) -> None:
    s, start = case
    end = start + timedelta(days=4)
    listing = shifts(s, start, end)
    # Contiguous, non-overlapping, covering the range, neighbours different.
    assert listing[0].start == start and listing[-1].end == end
    for before, after in pairwise(listing):
        assert before.end == after.start and before.start < before.end
        assert not before.same_decision(after)
    for minute in minutes:
        at = start + timedelta(minutes=minute)
        here = on_call(s, at)
        assert here.person == _reference(s, at), at
        [piece] = [p for p in listing if p.start <= at < p.end]
        assert (piece.person, piece.source) == (here.person, here.source)
        assert max(here.start, start) == piece.start and min(here.end, end) == piece.end
    # Every minute boundary in a sample of the range agrees with the reference too.
    for piece in listing:
        assert _reference(s, piece.start) == piece.person
