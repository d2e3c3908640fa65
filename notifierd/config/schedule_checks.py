"""Checks of on-call schedules beyond their schema: people, zones, durations, windows, handles."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifierd.config.build import local_instant, local_start
from notifierd.config.checks import Checker, Parsed, _items
from notifierd.config.model import Channel
from notifierd.config.problems import Problem
from notifierd.config.recipients import unfit_recipients
from notifierd.config.schema_errors import did_you_mean
from notifierd.config.values import parse_duration

# As schedule.schema.json's local_time: what passes it but is no date (month 13) is ours to say.
_LOCAL_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|z|[+-][0-9]{2}:[0-9]{2})?$"
)
# Shorter turns than this are surely a typo (1m for 1w), and would make a calendar unreadable.
MIN_ROTATION = 60.0


def check_schedules(
    schedules: Mapping[str, Parsed],
    problems: list[Problem],
    people: Mapping[str, set[str]],
    channels: Mapping[str, Channel],
    channel_names: list[str],
    *,
    routes_read: bool = True,
) -> None:
    """Check every schedule file (id -> parsed file), and the handles across all of them;
    ``routes_read`` False (routes.yaml is missing or unreadable) skips what needs its people
    and channels."""
    reachable = {c.type for c in channels.values() if not c.targeted}
    for pf in schedules.values():
        if isinstance(pf.data, dict):
            _check_schedule(
                Checker(pf, problems), people, reachable, list(channels.values()), routes_read
            )
    _check_handles(schedules, problems, people, channel_names)


def schedule_reach(
    schedules: Mapping[str, Parsed], people: Mapping[str, set[str]]
) -> dict[str, set[str]]:
    """Each way a recipient names a schedule (``schedule:<id>``, ``handle``, ``@handle``) ->
    the channel types its people's contacts reach (from well-formed entries)."""
    out: dict[str, set[str]] = {}
    for sid, pf in schedules.items():
        data = pf.data if isinstance(pf.data, dict) else {}
        names: list[Any] = [o.get("person") for _, o in _items(data, "overrides")]
        for _, layer in _items(data, "layers"):
            members = layer.get("members")
            names += members if isinstance(members, list) else []
        reach = {kind for n in names if isinstance(n, str) for kind in people.get(n, ())}
        out[f"schedule:{sid}"] = reach
        handle = data.get("handle")
        if isinstance(handle, str):
            out[handle] = out[f"@{handle}"] = reach
    return out


def _zone(check: Checker) -> ZoneInfo | None:
    name = check.parsed.data.get("timezone")
    if not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        check.at(
            ("timezone",),
            f"unknown time zone '{name}': use an IANA name such as Europe/Berlin or UTC",
            "bad-timezone",
        )
        return None


def _check_schedule(
    check: Checker,
    people: Mapping[str, set[str]],
    reachable: set[str],
    channels: list[Channel],
    routes_read: bool,
) -> None:
    # Times are still checked in a zone that is wrong (as UTC), to report everything at once.
    zone = _zone(check) or ZoneInfo("UTC")
    data = check.parsed.data
    seen_layers: dict[str, int] = {}
    for i, layer in _items(data, "layers"):
        name = layer.get("name")
        if isinstance(name, str):
            if name in seen_layers:
                first = check.parsed.doc.value_mark(("layers", seen_layers[name], "name"))
                check.at(
                    ("layers", i, "name"),
                    f"duplicate layer name '{name}' (first used at line {first.line}); "
                    "layer names must be unique within a schedule",
                    "duplicate-name",
                )
            else:
                seen_layers[name] = i
        members = layer.get("members")
        for j, member in enumerate(members if isinstance(members, list) and routes_read else ()):
            _check_person(check, ("layers", i, "members", j), member, people, reachable)
        rotation = layer.get("rotation")
        if isinstance(rotation, str):
            try:
                seconds = parse_duration(rotation)
            except ValueError:
                pass  # the schema says how to write it
            else:
                if seconds < MIN_ROTATION:
                    check.at(
                        ("layers", i, "rotation"),
                        f"rotation '{rotation}' is shorter than 1m: each member's turn lasts this "
                        "long, e.g. 12h, 1d or 1w",
                        "bad-duration",
                    )
        start = layer.get("start")
        if isinstance(start, str):
            _parse_time(check, ("layers", i, "start"), "start", start, local_start, zone)
        for k, window in _items(layer, "restrict"):
            if window.get("from") == "24:00":
                check.at(
                    ("layers", i, "restrict", k, "from"),
                    "a window starts at 00:00 at the latest (24:00 is only an end)",
                    "bad-time",
                )
    for i, override in _items(data, "overrides"):
        if routes_read:
            _check_person(
                check, ("overrides", i, "person"), override.get("person"), people, reachable
            )
        bounds: dict[str, datetime] = {}
        for key in ("from", "until"):
            text = override.get(key)
            if isinstance(text, str):
                stamp = _parse_time(check, ("overrides", i, key), key, text, local_instant, zone)
                if stamp is not None:
                    bounds[key] = stamp
        if len(bounds) == 2 and bounds["until"] <= bounds["from"]:
            check.at(
                ("overrides", i, "until"),
                f"override ends before it starts (until {override['until']} is not after "
                f"from {override['from']}): swap them or fix the date",
                "window-order",
            )
    fallback = data.get("fallback")
    if isinstance(fallback, list) and routes_read:
        named = [r for r in fallback if isinstance(r, str) and r not in people]
        unfit = set(unfit_recipients(channels, named))
        types = ", ".join(sorted({c.type for c in channels})) or "none"
        for i, recipient in enumerate(fallback):
            if recipient in unfit:
                check.at(
                    ("fallback", i),
                    f"fallback recipient '{recipient}' fits none of the config's channels "
                    f"({types}): use a person, #channel/@user for Slack, an e-mail address, "
                    "+E.164 for SMS, or a channel name prefix such as ops-email:ops@company.com",
                    "unfit-recipient",
                )


def _parse_time(
    check: Checker,
    path: tuple[Any, ...],
    key: str,
    text: str,
    parse: Callable[[str, ZoneInfo], datetime],
    zone: ZoneInfo,
) -> datetime | None:
    if not _LOCAL_TIME.match(text):
        return None  # the schema says how to write it
    try:
        stamp = parse(text, zone)
    except ValueError:
        check.at(
            path,
            f"'{key}': invalid date-time '{text}': use e.g. 2026-01-05T09:00 (the schedule's "
            "time zone) or 2026-01-05T09:00+01:00",
            "bad-time",
        )
        return None
    return stamp


def _check_person(
    check: Checker,
    path: tuple[Any, ...],
    name: Any,
    people: Mapping[str, set[str]],
    reachable: set[str],
) -> None:
    if not isinstance(name, str):
        return
    if name not in people:
        check.at(
            path,
            f"unknown person '{name}'{did_you_mean(name, people)}; people are defined under "
            "'people:' in routes.yaml",
            "unknown-person",
        )
    elif not people[name] & reachable:
        check.at(
            path,
            f"person '{name}' has no contact that any channel can reach (contacts: "
            f"{', '.join(sorted(people[name])) or 'none'}; channels: "
            f"{', '.join(sorted(reachable)) or 'none'}): add a contact of a channel's type",
            "unreachable-person",
        )


def _check_handles(
    schedules: Mapping[str, Parsed],
    problems: list[Problem],
    people: Mapping[str, set[str]],
    channel_names: list[str],
) -> None:
    # A handle is written bare as a recipient, so it must mean one thing only.
    first: dict[str, tuple[str, int]] = {}
    for sid, pf in sorted(schedules.items()):
        handle = pf.data.get("handle") if isinstance(pf.data, dict) else None
        if not isinstance(handle, str):
            continue
        check = Checker(pf, problems)
        if handle in first:
            path, line = first[handle]
            check.at(
                ("handle",),
                f"handle '{handle}' is already the handle of {path} (line {line}): each "
                "handle names one schedule",
                "duplicate-handle",
            )
            continue
        first[handle] = (pf.rel_path, pf.doc.value_mark(("handle",)).line)
        for what, names in (("person", people), ("channel", channel_names)):
            if handle in names:
                check.at(
                    ("handle",),
                    f"handle '{handle}' of schedule '{sid}' is also a {what}'s name in "
                    "routes.yaml: a recipient written that way would be ambiguous; rename one",
                    "handle-clash",
                )
