"""Run-time silences as the router applies them: matchers and a time span, checked in memory.

A silence is added at run time by a person with the operate role (``notifierd silence add``,
``POST /api/v1/silences``) and read from Postgres by every daemon about once a second; this
module is the pure part: whether one is in force for a request at an instant. Times are
compared on every check, so a silence stops applying at its end even between two reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from notifierd.config.matchers import Matcher
from notifierd.request import Request
from notifierd.routing.checks import Check, check, getter

# How a silence is named where a suppression window's name would be (``suppressed_by``).
PREFIX = "silence:"


@dataclass(frozen=True, slots=True)
class Silence:
    """Requests matching every matcher are suppressed from ``starts_at`` until ``ends_at``."""

    id: int
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    @property
    def name(self) -> str:
        """``silence:<id>``: what a silenced request records as its suppression."""
        return f"{PREFIX}{self.id}"

    def in_force(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, request: Request) -> bool:
        return all(m.matches(request) for m in self.matchers)

    def describe(self) -> str:
        """``run-time silence 12 by alice until 2026-…: db failover``: its outcome's words."""
        return (
            f"run-time silence {self.id} by {self.created_by} until "
            f"{self.ends_at.isoformat()}: {self.reason}"
        )


class Silences:
    """The run-time silences a daemon holds; :meth:`match` is the router's check.

    Each silence with an equality matcher (``service="db"``, the usual kind) is filed under it,
    so a request is checked only against the silences its own values can match, plus those
    with no equality matcher: many silences cost a few lookups, not a walk over all of them.
    """

    __slots__ = ("_by_value", "_getters", "_silences", "_unindexed")

    def __init__(self, silences: tuple[Silence, ...] = ()) -> None:
        self._silences = silences
        compiled = [(i, s, tuple(check(m) for m in s.matchers)) for i, s in enumerate(silences)]
        self._by_value: dict[str, dict[str, list[tuple[int, Silence, tuple[Check, ...]]]]] = {}
        self._unindexed: list[tuple[int, Silence, tuple[Check, ...]]] = []
        for entry in compiled:
            key = next((m for m in entry[1].matchers if m.op == "=" and m.name != "tags"), None)
            if key is None:
                self._unindexed.append(entry)
            else:
                self._by_value.setdefault(key.name, {}).setdefault(key.value, []).append(entry)
        self._getters = tuple((name, getter(name)) for name in self._by_value)

    def __bool__(self) -> bool:
        return bool(self._silences)

    def __iter__(self) -> Iterator[Silence]:
        return iter(self._silences)

    def __len__(self) -> int:
        return len(self._silences)

    def match(self, request: Request, now: datetime) -> Silence | None:
        """The first (oldest) silence in force at ``now`` that matches ``request``."""
        candidates = self._unindexed
        for name, get in self._getters:
            found = self._by_value[name].get(get(request))
            if found:
                candidates = sorted([*candidates, *found], key=_position)
        for _, silence, checks in candidates:
            if silence.starts_at <= now < silence.ends_at and all(c(request) for c in checks):
                return silence
        return None


def _position(entry: tuple[int, Silence, tuple[Check, ...]]) -> int:
    return entry[0]


NO_SILENCES = Silences()
