"""Run-time schedule overrides: who covers a schedule for a while, decided without a pull request.

Added by a person with the operate role (``notifierd override add``, ``POST /api/v1/overrides``)
and read from Postgres by every daemon about once a second. A run-time override is the newest
decision, so it wins over every layer and every override of the config in its window: it is
appended after the config's overrides, and the on-call engine lets a later override win where
two overlap (later run-time overrides over earlier ones too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from notifierd.config.model import Override, Schedule


@dataclass(frozen=True, slots=True)
class RuntimeOverride(Override):
    """An :class:`Override` added at run time: its row id and who added it."""

    id: int = 0
    schedule: str = ""
    created_by: str = ""

    def describe(self) -> str:
        """``runtime override 3 by alice: covering for bob``."""
        return f"runtime override {self.id} by {self.created_by}: {self.reason}"


def with_overrides(
    schedules: Mapping[str, Schedule], overrides: Iterable[RuntimeOverride]
) -> Mapping[str, Schedule]:
    """``schedules`` with each run-time override appended to its schedule's overrides (in id
    order, so a newer one wins where two overlap); one naming a schedule the config no longer
    has is left out."""
    extra: dict[str, list[RuntimeOverride]] = {}
    for override in sorted(overrides, key=lambda o: o.id):
        if override.schedule in schedules:
            extra.setdefault(override.schedule, []).append(override)
    if not extra:
        return schedules
    merged = dict(schedules)
    for sid, added in extra.items():
        merged[sid] = replace(merged[sid], overrides=(*merged[sid].overrides, *added))
    return MappingProxyType(merged)
