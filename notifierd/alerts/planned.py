"""Escalation steps planned or brought forward, announced to whoever schedules them.

The alert service opens alerts while processing requests (and brings steps forward when
someone asks to escalate now); the escalator, built after the
processor it fires steps through, sets its timers. The announcement joins them without either
reaching into the other after construction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Listener = Callable[[str, list[datetime]], None]


class StepsPlanned:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def announce(self, alert_id: str, due: list[datetime]) -> None:
        """An alert has steps due at ``due``: it opened, or someone asked to escalate it now."""
        for listener in self._listeners:
            listener(alert_id, due)
