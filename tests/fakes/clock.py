"""A clock tests move forward: wall time plus whatever the test skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SkippingClock:
    """``now()`` is the wall clock plus every ``skip``: the daemon's loops keep running on
    their own, and a step due in seconds falls due at once when the test skips past it.

    Give it to the daemon as both its clock and its due clock (notifierd/store/due.py), so
    Postgres' claims compare due times with the same time Python wrote them with."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped

    def skip(self, seconds: float) -> None:
        self.skipped += timedelta(seconds=seconds)
