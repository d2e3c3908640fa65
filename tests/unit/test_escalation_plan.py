"""The escalation plan is a pure function of the policy and the alert's start (injected time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifierd.alerts.schedule import plan, round_length
from notifierd.config.model import EscalationLevel, Policy

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def policy(*afters: float, repeat: int = 0, repeat_after: float | None = None) -> Policy:
    levels = tuple(EscalationLevel(after=a, channels=("ops-slack",)) for a in afters)
    return Policy(id="p", name="p", levels=levels, repeat=repeat, repeat_after=repeat_after)


def test_levels_fall_due_at_their_delay_from_the_start() -> None:
    steps = plan(policy(0, 900, 1800), T0)
    assert [(s.round, s.level, s.due_at - T0) for s in steps] == [
        (0, 1, timedelta(0)),
        (0, 2, timedelta(minutes=15)),
        (0, 3, timedelta(minutes=30)),
    ]


def test_repeat_runs_the_levels_again_after_the_last_gap() -> None:
    steps = plan(policy(0, 900, 1800, repeat=1), T0)
    assert round_length(policy(0, 900, 1800)) == 2700  # 30m + the last 15m gap
    assert [(s.round, s.level, (s.due_at - T0).total_seconds() / 60) for s in steps] == [
        (0, 1, 0),
        (0, 2, 15),
        (0, 3, 30),
        (1, 1, 45),
        (1, 2, 60),
        (1, 3, 75),
    ]


def test_repeat_after_sets_the_round_length() -> None:
    steps = plan(policy(0, 600, repeat=2, repeat_after=3600), T0)
    assert [(s.due_at - T0).total_seconds() for s in steps] == [0, 600, 3600, 4200, 7200, 7800]


def test_a_single_immediate_level_repeats_no_faster_than_a_minute() -> None:
    assert round_length(policy(0)) == 60
    assert [(s.due_at - T0).total_seconds() for s in plan(policy(0, repeat=2), T0)] == [0, 60, 120]
