"""What changed between two snapshots: routes, channels, policies, templates, windows, limits, settings."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from notifierd.config.model import WEEKDAYS, Person, Schedule, Snapshot
from notifierd.config.values import format_duration


@dataclass
class Change:
    kind: str  # route, channel, policy, template, suppression, rate_limit, person, schedule,
    # settings
    name: str
    what: str  # added, removed, changed, moved
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{self.kind} {self.name!r} {self.what}"
        return head + ("".join(f"\n    {d}" for d in self.details) if self.details else "")


def _route_view(route: Any) -> dict[str, Any]:
    return {
        "matchers": [str(m) for m in route.matchers],
        "channels": list(route.channels),
        "recipients": list(route.recipients),
        "escalation": route.escalation,
        "template": str(route.template) if route.template else None,
        "continue": route.continue_,
    }


def _fields(
    old: dict[str, Any], new: dict[str, Any], hide: frozenset[str] = frozenset()
) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            if key in hide:
                out.append(f"{key}: changed (secret reference)")
            else:
                out.append(f"{key}: {a!r} → {b!r}")
    return out


def _named(
    kind: str,
    old: dict[str, Any],
    new: dict[str, Any],
    view: Any,
    hide: frozenset[str] = frozenset(),
) -> list[Change]:
    changes = []
    for name in sorted(set(old) - set(new)):
        changes.append(Change(kind, name, "removed"))
    for name in sorted(set(new) - set(old)):
        changes.append(Change(kind, name, "added"))
    for name in sorted(set(old) & set(new)):
        details = _fields(view(old[name]), view(new[name]), hide)
        if details:
            changes.append(Change(kind, name, "changed", details))
    return changes


SECRET_SETTINGS = frozenset(
    {
        "token",
        "password",
        "api_key",
        "webhook_url",
        "routing_key",
        "secret",
        "account_sid",
        "auth_token",
    }
)


def _policy_view(policy: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"repeat": policy.repeat}
    if policy.repeat_after is not None:
        view["repeat_after"] = format_duration(policy.repeat_after)
    for i, level in enumerate(policy.levels, start=1):
        view[f"level {i}"] = (
            f"after {format_duration(level.after)} → {', '.join(level.channels)}"
            + (f" ({', '.join(level.recipients)})" if level.recipients else "")
        )
    return view


def _template_view(tv: Any) -> dict[str, Any]:
    return {
        "subject": tv.subject,
        "text": tv.text,
        "slack": tv.slack,
        "html": tv.html,
        "teams": tv.teams,
        "variables": tv.variables,
    }


def _suppression_view(s: Any) -> dict[str, Any]:
    return {
        "matchers": [str(m) for m in s.matchers],
        "start": s.start and s.start.isoformat(),
        "end": s.end and s.end.isoformat(),
        "cron": s.cron,
        "duration": format_duration(s.duration) if s.duration else None,
        "timezone": s.timezone,
    }


def _limit_view(limit: Any) -> dict[str, Any]:
    return {
        "limit": limit.limit,
        "window": format_duration(limit.window),
        "algorithm": limit.algorithm,
        "burst": limit.burst,
    }


def _settings_view(settings: Any) -> dict[str, Any]:
    return {
        "retention_days": settings.retention_days,
        "dedup_window": format_duration(settings.dedup_window),
        "retry": repr(settings.retry),
        "misfire_grace": format_duration(settings.escalation_misfire_grace),
        "runtime.max_silence": format_duration(settings.max_silence),
        "runtime.max_override": format_duration(settings.max_override),
    }


def _schedule_view(schedule: Schedule) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": schedule.name,
        "handle": schedule.handle,
        "timezone": schedule.timezone,
        "fallback": list(schedule.fallback),
    }
    for layer in schedule.layers:
        windows = "; ".join(
            f"{','.join(WEEKDAYS[d] for d in sorted(w.days))} {w.start:%H:%M}-{w.end:%H:%M}"
            for w in layer.restrict
        )
        view[f"layer {layer.name}"] = (
            f"{', '.join(layer.members)} every {format_duration(layer.rotation)} from "
            f"{layer.start:%Y-%m-%dT%H:%M}" + (f" ({windows})" if windows else "")
        )
    view["overrides"] = [
        f"{o.person} {o.start:%Y-%m-%dT%H:%MZ} → {o.end:%Y-%m-%dT%H:%MZ}"
        + (f" ({o.reason})" if o.reason else "")
        for o in schedule.overrides
    ]
    return view


def _person_view(person: Person) -> dict[str, Any]:
    return {
        "reach": person.reach,
        "contacts": [
            " ".join(
                f"{k}={v}"
                for k, v in (
                    (c.type, c.address),
                    ("min_severity", c.min_severity),
                    ("min_priority", c.min_priority),
                )
                if v
            )
            for c in person.contacts
        ],
    }


def kept_in_order(old: Sequence[str], new: Sequence[str]) -> set[str]:
    """The most names of ``new`` that are still in their ``old`` relative order.

    Both list the same names. These are a longest increasing subsequence of the old positions
    taken in the new order; every other name is one the author moved. Moving one route to the
    top thus moves one route, not every route below it. Among equally long answers the one found
    by patience sorting is kept, which is stable from run to run.
    """
    where = {name: i for i, name in enumerate(old)}
    positions = [where[name] for name in new]
    tails: list[int] = []  # tails[k]: index in ``new`` ending the best run of length k + 1
    tail_positions: list[int] = []  # their old positions, ascending (what bisect searches)
    before: list[int | None] = [None] * len(new)
    for i, position in enumerate(positions):
        k = bisect_left(tail_positions, position)
        before[i] = tails[k - 1] if k else None
        if k == len(tails):
            tails.append(i)
            tail_positions.append(position)
        else:
            tails[k], tail_positions[k] = i, position
    kept: set[str] = set()
    at = tails[-1] if tails else None
    while at is not None:
        kept.add(new[at])
        at = before[at]
    return kept


def _moves(old: Sequence[str], new: Sequence[str]) -> list[Change]:
    """The routes in both sides, old and new order: the fewest moves that explain the new one.

    First match wins, so order is behaviour; each move says which route it now goes before.
    """
    if list(old) == list(new):
        return []
    kept = kept_in_order(old, new)
    changes = []
    for index, name in enumerate(new):
        if name in kept:
            continue
        below = new[index + 1] if index + 1 < len(new) else None
        where = f"now above {below!r}" if below is not None else "now last"
        changes.append(
            Change(
                "route",
                name,
                "moved",
                [f"position {old.index(name) + 1} → {index + 1} (among routes in both), {where}"],
            )
        )
    return changes


def diff_snapshots(old: Snapshot, new: Snapshot) -> list[Change]:
    changes: list[Change] = []
    old_routes = {r.name: r for r in old.routes}
    new_routes = {r.name: r for r in new.routes}
    changes += _named("route", old_routes, new_routes, _route_view)
    changes += _moves(
        [r.name for r in old.routes if r.name in new_routes],
        [r.name for r in new.routes if r.name in old_routes],
    )
    changes += _named(
        "channel",
        dict(old.channels),
        dict(new.channels),
        lambda c: {
            "type": c.type,
            **dict(c.settings),
            "default_recipients": list(c.default_recipients),
            "allow_recipients": list(c.allow_recipients),
            "fallback": list(c.fallback),
        },
        SECRET_SETTINGS,
    )
    changes += _named("policy", dict(old.policies), dict(new.policies), _policy_view)
    old_t = {tv.ref: tv for versions in old.templates.values() for tv in versions}
    new_t = {tv.ref: tv for versions in new.templates.values() for tv in versions}
    changes += _named("template", old_t, new_t, _template_view)
    changes += _named(
        "suppression",
        {s.name: s for s in old.suppressions},
        {s.name: s for s in new.suppressions},
        _suppression_view,
    )
    changes += _named(
        "rate_limit",
        {r.key: r for r in old.rate_limits},
        {r.key: r for r in new.rate_limits},
        _limit_view,
    )
    changes += _named("person", dict(old.people), dict(new.people), _person_view)
    changes += _named("schedule", dict(old.schedules), dict(new.schedules), _schedule_view)
    settings = _fields(_settings_view(old.settings), _settings_view(new.settings))
    if settings:
        changes.append(Change("settings", "settings", "changed", settings))
    return changes
