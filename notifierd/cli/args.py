"""What every command accepts: bounded numbers, durations, instants and service URLs.

A value the code behind an option cannot compute with — NaN hours, a look-back to before year
one, a port that is not a number — is a usage error (exit 2) that names the option, what was
given and what is accepted, raised while the arguments are parsed, before anything connects or
is pushed. Nothing deeper has to guard against such values.
"""

from __future__ import annotations

import json
import math
import os
import re
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from urllib.parse import urlsplit

import click

from notifierd.config.values import DURATION_PATTERN, parse_duration
from notifierd.defaults import DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL
from notifierd.errors import mask_url

# How far back `history` and `metrics` may look: far beyond any retention period, and far from
# the end of the calendar Python can count in.
MAX_LOOKBACK = timedelta(days=100 * 365)
# Instants a command evaluates config at (`routes test --at`, `lint --at`, `oncall --at`): the
# Unix epoch to 1 Jan 9990. What a command computes around one — a year of shifts either side,
# a year's look-ahead, the next cron fire of a window — must stay within Python's calendar,
# which ends with 9999.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9990, 1, 1, tzinfo=UTC)
# Rows a listing returns at most: more than a terminal shows, less than a query should carry.
MAX_LIMIT = 100_000
# How long `send --wait` may wait: a day is longer than any retry schedule needs.
MAX_WAIT = 24 * 3600.0


def _hours_text(hours: float) -> str:
    return f"{hours:g} hours" + (f" ({hours / 24 / 365:g} years)" if hours >= 24 * 365 else "")


class BoundedNumber(click.ParamType):
    """A finite float in ``(low, high]`` (``[low, high]`` when ``low_inclusive``)."""

    def __init__(self, unit: str, low: float, high: float, *, low_inclusive: bool = False) -> None:
        self.unit = unit
        self.low, self.high, self.low_inclusive = low, high, low_inclusive
        self.name = unit.upper()

    def accepted(self) -> str:
        above = f"at least {self.low:g}" if self.low_inclusive else f"greater than {self.low:g}"
        return f"a number of {self.unit} {above} and at most {self.high:g}"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number; use {self.accepted()}", param, ctx)
        too_low = number < self.low or (number == self.low and not self.low_inclusive)
        if not math.isfinite(number) or too_low or number > self.high:
            self.fail(f"{value!r} is out of range; use {self.accepted()}", param, ctx)
        return number


HOURS = BoundedNumber("hours", 0, MAX_LOOKBACK.total_seconds() / 3600)
WAIT_SECONDS = BoundedNumber("seconds", 0, MAX_WAIT)
LIMIT = click.IntRange(1, MAX_LIMIT)


def seconds_option_type(
    high: float, *, low: float = 0, low_inclusive: bool = False
) -> BoundedNumber:
    """A number of seconds in ``(low, high]``: timeouts, TTLs."""
    return BoundedNumber("seconds", low, high, low_inclusive=low_inclusive)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant within [EARLIEST, LATEST]; without an offset it is UTC.

    ValueError says what is wrong and what is accepted."""
    example = "e.g. 2026-12-01T02:30:00Z or 2026-12-01T03:30+01:00"
    try:
        # Python 3.10's fromisoformat does not read a trailing Z.
        cleaned = text.strip()
        moment = datetime.fromisoformat(
            cleaned[:-1] + "+00:00" if cleaned[-1:] in ("Z", "z") else cleaned
        )
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 time; {example}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant Python counts
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise ValueError(
            f"{text!r} is out of range; use a time from {EARLIEST:%Y-%m-%d} to "
            f"{LATEST:%Y-%m-%d} (UTC), {example}"
        )
    return moment


class Moment(click.ParamType):
    """``--at TIME``: ISO-8601 with a trailing ``Z`` or an offset (naive means UTC), or ``now``,
    read as an aware UTC datetime within [EARLIEST, LATEST] — so that what a command computes
    from it (windows, shifts, cron fires) stays within the calendar."""

    name = "TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        if str(value).strip() == "now":
            return datetime.now(UTC)
        try:
            return parse_instant(str(value)).astimezone(UTC)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def parse_lookback(text: str, limit: timedelta = MAX_LOOKBACK) -> timedelta:
    """A duration such as ``24h`` or ``7d``, at most ``limit``; ValueError says why not."""
    seconds = parse_duration(text.strip())
    if not math.isfinite(seconds) or seconds > limit.total_seconds():
        raise ValueError(
            f"{text!r} is too long; at most {_hours_text(limit.total_seconds() / 3600)}"
        )
    return timedelta(seconds=seconds)


class Since(click.ParamType):
    """A moment in the past: a duration back from now (``24h``, ``7d``) or an ISO-8601 time."""

    name = "DURATION|TIME"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if re.fullmatch(DURATION_PATTERN, text):
            try:
                return datetime.now(UTC) - parse_lookback(text)
            except ValueError as exc:
                self.fail(f"{exc}; use a duration such as 24h or 7d, or an ISO time", param, ctx)
        try:
            moment = parse_instant(text)
        except ValueError as exc:
            self.fail(f"{exc}, or a duration such as 24h", param, ctx)
        return moment


def parse_json(text: str) -> Any:
    """``json.loads`` for input from the command line: nesting deeper than the parser can follow
    is a JSONDecodeError like any other malformed input, not a RecursionError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def read_json(source: IO[str]) -> Any:
    """:func:`parse_json` of a file or stdin; bytes that are not UTF-8 are malformed input too."""
    try:
        text = source.read()
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"not UTF-8 text ({exc.reason})", "", 0) from None
    return parse_json(text)


# --- service URLs, from the environment --------------------------------------------------------


class BadServiceUrl(click.UsageError):
    """``REDIS_URL`` / ``POSTGRES_URL`` is malformed: a usage error (exit 2), not an outage."""


def postgres_url_problem(url: str) -> str | None:
    """Why ``url`` is not a PostgreSQL URL asyncpg can use, or None.

    The form is checked here, the rest (the server, the credentials) by connecting."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("postgresql", "postgres"):
        return "it must start with postgresql:// (or postgres://)"
    hosts = parts.netloc.rpartition("@")[2]
    # asyncpg accepts several hosts: host1:5432,host2:5433
    for host in hosts.split(",") if hosts else []:
        if host.startswith("["):  # [::1]:5432
            _, _, rest = host.partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            port = host.partition(":")[2]
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            return f"port {port!r} is not a number from 1 to 65535"
    return None


def redis_url_problem(url: str) -> str | None:
    """Why ``url`` is not a Redis URL redis-py can use, or None."""
    from redis.connection import parse_url

    try:
        parse_url(url)
        port = urlsplit(url).port
    except ValueError as exc:
        return " ".join(str(exc).split()).rstrip(".")
    if port == 0:
        return "port 0 is not a port"
    return None


def checked_postgres_url() -> str:
    """``$POSTGRES_URL`` (or the local default), or a usage error saying what is wrong with it."""
    url = os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = postgres_url_problem(url)
    if problem:
        raise BadServiceUrl(
            f"POSTGRES_URL {mask_url(url)!r} is not a PostgreSQL URL: {problem}; "
            "e.g. postgresql://user:password@127.0.0.1:5432/notifierd"
        )
    return url


def checked_redis_url() -> str:
    """``$REDIS_URL`` (or the local default), or a usage error saying what is wrong with it."""
    url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    problem = redis_url_problem(url)
    if problem:
        raise BadServiceUrl(
            f"REDIS_URL {mask_url(url)!r} is not a Redis URL: {problem}; "
            "e.g. redis://127.0.0.1:6379/0"
        )
    return url
