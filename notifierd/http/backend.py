"""What the HTTP listener needs from the daemon, as a protocol: http/ knows no Daemon.

The daemon implements it (``notifierd.daemon.Daemon``); the web console to come serves from the
same seam.
"""

from __future__ import annotations

from typing import Any, Protocol

from notifierd.config.model import SnapshotId
from notifierd.config.problems import Problem


class AlertActions(Protocol):
    """Acknowledge or resolve an alert by its id, dedup key or a step's id; None: no such alert."""

    async def acknowledge(
        self, alert_id: str, by: str, via: str, context: dict[str, Any] | None = None
    ) -> dict[str, Any] | None: ...

    async def resolve(
        self, alert_id: str, by: str, via: str, context: dict[str, Any] | None = None
    ) -> dict[str, Any] | None: ...


class Backend(Protocol):
    @property
    def draining(self) -> bool:
        """Stopping: finishing what is in flight, taking nothing new."""

    @property
    def alerts(self) -> AlertActions | None: ...

    async def redis_ok(self) -> bool: ...

    async def postgres_ok(self) -> bool: ...

    async def queue_depth(self) -> int: ...

    async def reload(self, why: str) -> bool:
        """Reload the config; True when a new one became active."""

    def reload_problems(self) -> list[Problem]:
        """Why the last reload was refused; empty after a good one."""

    def snapshot(self) -> SnapshotId:
        """The active config's identity."""

    async def enqueue(self, payload: bytes) -> None:
        """Push a valid request onto the queue, as a producer would."""

    async def request_status(self, request_id: str) -> dict[str, Any] | None: ...
