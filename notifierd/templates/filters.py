"""The filters notifierd adds to Jinja: dates, numbers, durations, plurals, escaping, mentions, links."""

from __future__ import annotations

import math
from collections.abc import Callable, Sized
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifierd.templates.markup import link_target, slack_escape, slack_mention, teams_escape


def _to_datetime(value: Any) -> datetime | date:
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, bool):
        raise ValueError(f"date_format: cannot read {value!r} as a date")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            pass
        # fromisoformat before 3.11 rejects a trailing "Z", which every producer sends.
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(
        f"date_format: cannot read {value!r} as a date "
        "(use ISO 8601 such as 2024-01-15T10:30:00Z, a date, or epoch seconds)"
    )


def date_format(value: Any, fmt: str = "%Y-%m-%d %H:%M", tz: str | None = None) -> str:
    """Format a datetime, date, ISO-8601 string or epoch seconds; ``tz`` converts (aware only)."""
    moment = _to_datetime(value)
    if tz is not None:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"date_format: unknown time zone {tz!r}") from exc
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(), tzinfo=UTC)
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # naive times are taken as UTC
        moment = moment.astimezone(zone)
    return moment.strftime(fmt)


def _to_number(value: Any, name: str) -> float | int:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                pass
    raise ValueError(f"{name}: expected a number, got {value!r}")


def number_format(
    value: Any, decimals: int = 0, thousands: str = ",", decimal_point: str = "."
) -> str:
    """``1234567.891|number_format(2)`` -> ``1,234,567.89``; separators are configurable."""
    number = _to_number(value, "number_format")
    if isinstance(number, float) and not math.isfinite(number):
        return str(number)
    text = f"{number:,.{int(decimals)}f}"
    # Swap through a placeholder so thousands="." with decimal_point="," works.
    return text.replace(",", "\0").replace(".", decimal_point).replace("\0", thousands)


_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def duration_format(value: Any) -> str:
    """Seconds (or a timedelta) as the two largest units: 8100 -> ``2h 15m``, 323 -> ``5m 23s``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    else:
        seconds = _to_number(value, "duration_format")
    sign = "-" if seconds < 0 else ""
    rest = round(abs(seconds))
    if rest == 0:
        return "0s"
    parts: list[str] = []
    for unit, size in _UNITS:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(f"{count}{unit}")
        if len(parts) == 2:
            break
    # "2h 0m" reads worse than "2h".
    return sign + " ".join(p for i, p in enumerate(parts) if i == 0 or not p.startswith("0"))


def pluralize(value: Any, singular: str = "", plural: str | None = None) -> str:
    """``n|pluralize`` -> "" or "s"; ``n|pluralize("story", "stories")``; lists count items."""
    count = len(value) if isinstance(value, Sized) and not isinstance(value, str) else value
    number = _to_number(count, "pluralize")
    if plural is None:
        plural = singular + "s"
    return singular if number == 1 else plural


FILTERS: dict[str, Callable[..., Any]] = {
    "date_format": date_format,
    "number_format": number_format,
    "slack_escape": slack_escape,
    "slack_mention": slack_mention,
    "teams_escape": teams_escape,
    "link_target": link_target,
    "duration_format": duration_format,
    "pluralize": pluralize,
}
