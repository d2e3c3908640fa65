"""Cron syntax: 5-field crontab expressions read as wall-clock times in an IANA time zone."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifierd.imports import defer_package_init

# Only the cron trigger is used here: not APScheduler's __init__ (importlib.metadata, ~13 ms of
# a cold validate, to read its own version), unless something imported APScheduler already.
defer_package_init("apscheduler")
from apscheduler.triggers.cron import CronTrigger  # noqa: E402

_US = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Crontab numbers weekdays from Sunday (0 and 7); APScheduler 3.x from Monday, so weekdays are
# handed to it by name only.
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_TERM = re.compile(
    r"(?:\*|(?P<first>[0-7]|[a-z]{3})(?:-(?P<last>[0-7]|[a-z]{3}))?)(?:/(?P<step>[0-9]+))?",
    re.IGNORECASE,
)
_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_KEYWORDS = ("minute", "hour", "day", "month", "day_of_week")
# Enough iterations to step through a repeated autumn hour of every-minute fire times.
_SEARCH_LIMIT = 2000


def timezone_named(name: str) -> ZoneInfo | timezone:
    """The IANA time zone ``name``; raises ValueError with a hint when there is none."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin or UTC"
        ) from None


class CronSchedule:
    """Fire instants of a 5-field crontab read as wall-clock times in ``tz``.

    DST: a wall time that does not exist (spring gap) fires at the instant the clocks jump,
    as cronie does; a wall time that happens twice (autumn) fires once, at its first
    occurrence. Day of month and day of week, when both are restricted, combine with OR, as
    in crontab.
    """

    __slots__ = ("_triggers", "expr", "tz")

    def __init__(self, expr: str, tz: ZoneInfo | timezone, triggers: tuple[CronTrigger, ...]):
        self.expr = expr
        self.tz = tz
        self._triggers = triggers

    def next_fire(self, at_or_after: datetime) -> datetime | None:
        """The first fire instant (UTC) at or after ``at_or_after``; None if it never fires."""
        x = at_or_after.astimezone(UTC)
        # APScheduler runs on UTC here, so it walks wall-clock values with no DST of its own;
        # starting a microsecond early keeps a gap fire time that maps exactly onto ``x``.
        start = self._wall(x - _US)
        for _ in range(_SEARCH_LIMIT):
            wall = self._next_wall(start)
            if wall is None:
                return None
            instant = self._instant(wall)
            # Only in a repeated autumn hour can a later wall time map to an earlier instant.
            if instant >= x:
                return instant
            start = wall + _SECOND
        return None

    def _wall(self, instant: datetime) -> datetime:
        # Wall-clock time in ``tz``, carried as an aware UTC value for APScheduler.
        return instant.astimezone(self.tz).replace(tzinfo=UTC, fold=0)

    def _next_wall(self, start: datetime) -> datetime | None:
        found = [t for trig in self._triggers if (t := trig.get_next_fire_time(None, start))]
        return min(found) if found else None

    def _instant(self, wall: datetime) -> datetime:
        if self.tz is UTC:
            return wall
        local = wall.replace(tzinfo=self.tz)  # fold=0: the first of two repeated wall times
        instant = local.astimezone(UTC)
        if self._wall(instant) == wall:
            return instant
        return self._gap_end(wall)

    def _gap_end(self, wall: datetime) -> datetime:
        """The instant clocks jump over the non-existent ``wall``: the first one after it."""
        lo = math.floor(wall.replace(tzinfo=self.tz, fold=1).timestamp())
        hi = math.ceil(wall.replace(tzinfo=self.tz, fold=0).timestamp())
        while lo < hi:
            mid = (lo + hi) // 2
            if self._wall(datetime.fromtimestamp(mid, UTC)) > wall:
                hi = mid
            else:
                lo = mid + 1
        return datetime.fromtimestamp(lo, UTC)

    def __repr__(self) -> str:
        return f"CronSchedule({self.expr!r}, {self.tz})"


def parse_cron(expr: str, tz: str = "UTC") -> CronSchedule:
    """Compile a 5-field crontab (names like SAT allowed) in IANA zone ``tz``.

    Raises ValueError with a message fit for ``path:line:col: message``.
    """
    zone = timezone_named(tz)
    text = _MACROS.get(expr.strip().lower(), expr)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(
            f"invalid cron expression {expr!r}: expected 5 fields (minute hour day-of-month "
            f'month day-of-week), got {len(fields)}; e.g. "0 2 * * SAT"'
        )
    minute, hour, dom, month, dow = fields
    for label, keyword, value in zip(_FIELDS, _KEYWORDS, fields, strict=True):
        try:
            # One field at a time, so the message can say which one is wrong.
            if keyword == "day_of_week":
                dow = _weekdays(value)
            else:
                CronTrigger(timezone=UTC, **{keyword: value})
        except ValueError as exc:
            raise ValueError(
                f"invalid cron expression {expr!r}: bad {label} field {value!r}: {exc}"
            ) from None
    common = {"minute": minute, "hour": hour, "month": month, "timezone": UTC}
    if dom.startswith("*") or fields[4].startswith("*"):
        triggers = [CronTrigger(day=dom, day_of_week=dow, **common)]
    else:
        triggers = [
            CronTrigger(day=dom, day_of_week="*", **common),
            CronTrigger(day="*", day_of_week=dow, **common),
        ]
    # A trigger that never fires (30 February) makes APScheduler scan to year 9999 on every
    # call, so drop it here; eight years from the probe cover every leap day.
    probe = datetime(2000, 1, 1, tzinfo=UTC)
    firing = tuple(t for t in triggers if _fires_within(t, probe, timedelta(days=8 * 366)))
    if not firing:
        raise ValueError(f"invalid cron expression {expr!r}: it never fires")
    return CronSchedule(expr, zone, firing)


def _fires_within(trigger: CronTrigger, start: datetime, span: timedelta) -> bool:
    first = trigger.get_next_fire_time(None, start)
    return first is not None and first - start <= span


def _weekdays(field: str) -> str:
    """A crontab day-of-week field as APScheduler weekday names (Sunday is 0 and 7)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for term in field.split(","):
        m = _DOW_TERM.fullmatch(term)
        if m is None:
            raise ValueError(f"unrecognised day of week {term!r} (use 0-7 or SUN-SAT)")
        first, last, step = m.group("first", "last", "step")
        if first is None:
            lo, hi = 0, 6
        else:
            lo = _weekday_number(first)
            hi = _weekday_number(last) if last else (6 if step else lo)
            if last and hi == 0 and lo > 0:
                hi = 7  # `5-0`, `fri-sun`: through Sunday
        if hi < lo:
            raise ValueError(f"day-of-week range {term!r} runs backwards")
        stride = int(step) if step else 1
        if stride == 0:
            raise ValueError(f"step 0 in day of week {term!r}")
        days.update(d % 7 for d in range(lo, hi + 1, stride))
    # Each term in APScheduler's own Monday-first terms, by name.
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def _weekday_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    try:
        return _CRON_DAYS.index(token.lower())
    except ValueError:
        raise ValueError(f"unknown weekday {token!r} (use SUN, MON, … SAT)") from None
