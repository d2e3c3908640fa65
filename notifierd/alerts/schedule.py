"""The escalation plan of an alert: which level fires when, for every round — a pure function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifierd.config.model import Policy


@dataclass(frozen=True, slots=True)
class Step:
    round: int  # 0 for the first pass through the levels, 1.. for repeats
    level: int  # 1-based
    due_at: datetime


def round_length(policy: Policy) -> float:
    """Seconds between rounds: ``repeat_after`` when set, else the last level's delay plus the
    last gap between levels (0m/15m/30m repeats every 45m), and never less than a minute."""
    if policy.repeat_after is not None:
        return policy.repeat_after
    delays = [level.after for level in policy.levels]
    gap = delays[-1] - delays[-2] if len(delays) > 1 else delays[-1]
    return max(60.0, delays[-1] + gap)


def plan(policy: Policy, started_at: datetime) -> list[Step]:
    """Every step of ``policy`` for an alert that started at ``started_at``, in due order."""
    steps = []
    length = round_length(policy)
    for rnd in range(policy.repeat + 1):
        for index, level in enumerate(policy.levels, start=1):
            steps.append(
                Step(rnd, index, started_at + timedelta(seconds=rnd * length + level.after))
            )
    return sorted(steps, key=lambda s: (s.due_at, s.round, s.level))
