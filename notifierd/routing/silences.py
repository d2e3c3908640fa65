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
    """The run-time silences a daemon holds; :meth:`match` is the router's check."""

    __slots__ = ("_silences",)

    def __init__(self, silences: tuple[Silence, ...] = ()) -> None:
        self._silences = silences

    def __bool__(self) -> bool:
        return bool(self._silences)

    def __iter__(self) -> Iterator[Silence]:
        return iter(self._silences)

    def __len__(self) -> int:
        return len(self._silences)

    def match(self, request: Request, now: datetime) -> Silence | None:
        """The first (oldest) silence in force at ``now`` that matches ``request``."""
        for silence in self._silences:
            if silence.in_force(now) and silence.matches(request):
                return silence
        return None


NO_SILENCES = Silences()
