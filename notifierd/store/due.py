"""Whose clock says when a stored escalation step or retry is due, and when a lease ends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

# The time claims compare due times and leases with. None: Postgres' now(), production's one
# clock (replicas' clocks may disagree; leases must not). A test gives its fake clock, so what
# Python wrote with that clock (due_at, next_attempt_at) falls due when the fake clock says.
DueClock = Callable[[], datetime | None]


def postgres_clock() -> None:
    """Postgres decides: claims use its now()."""
    return None
