"""Heartbeats: a beat from the producer allowed to send it, and the alert a late one opens.

A heartbeat late past its interval + grace opens an alert through the same path as a
``kind: alert`` request (queued, so it is routed, recorded and escalated like any other), with
the dedup key ``heartbeat:<name>``. Which replica opens it Postgres decides, in one conditional
UPDATE (store/heartbeats.py); the beat that finds the heartbeat late resolves it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from notifierd.config.heartbeats import late_alert
from notifierd.config.model import ANONYMOUS_PRODUCER, Heartbeat, Snapshot
from notifierd.principals import Principal, Refused, Role
from notifierd.request import Request
from notifierd.store.due import DueClock, postgres_clock
from notifierd.store.heartbeats import HeartbeatStore
from notifierd.store.rows import HeartbeatRow

log = logging.getLogger("notifierd.heartbeats")

# Pushes one request (JSON) onto the default queue, as a producer would.
Enqueue = Callable[[bytes], Awaitable[None]]


class Resolver(Protocol):
    """What a beat asks of alerts (notifierd.alerts.service.AlertService)."""

    async def resolve(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any] | Refused | None: ...


@dataclass(frozen=True, slots=True)
class UnknownHeartbeat:
    name: str

    @property
    def reason(self) -> str:
        return f"no heartbeat named {self.name!r} in the active config (routes.yaml heartbeats:)"


@dataclass(frozen=True, slots=True)
class Beaten:
    """A recorded beat; ``resolved``: the alert it resolved, when the heartbeat was late."""

    name: str
    resolved: str | None = None


BeatOutcome = Beaten | UnknownHeartbeat | Refused


def beat_refusal(heartbeat: Heartbeat, producer: str | None) -> Refused | None:
    """None when ``producer`` (a producer id; None: the default queue) may beat ``heartbeat``."""
    who = producer or ANONYMOUS_PRODUCER
    if who == heartbeat.producer:
        return None
    return Refused(
        f"heartbeat {heartbeat.name!r} is beaten by producer {heartbeat.producer!r} only, "
        f"not by {who!r}"
    )


def heartbeat_actor(name: str) -> Principal:
    """Who resolves a heartbeat's alert when beats resume (its timeline says so)."""
    return Principal(f"heartbeat:{name}", frozenset({Role.OPERATE}))


class Heartbeats:
    def __init__(
        self,
        store: HeartbeatStore,
        alerts: Resolver,
        enqueue: Enqueue,
        due_clock: DueClock = postgres_clock,
    ) -> None:
        self.store = store
        self.alerts = alerts
        self.enqueue = enqueue
        self.due_clock = due_clock  # None: Postgres' now() decides when a heartbeat is late

    async def beat(self, snapshot: Snapshot, name: str, producer: str | None) -> BeatOutcome:
        """A beat of ``name`` by ``producer`` (its id; None: the default queue)."""
        heartbeat = snapshot.heartbeats.get(name)
        if heartbeat is None:
            return UnknownHeartbeat(name)
        refused = beat_refusal(heartbeat, producer)
        if refused is not None:
            log.warning(
                "beat of heartbeat %s refused: %s",
                name,
                refused.reason,
                extra={"event": "heartbeat_refused"},
            )
            return refused
        found = await self.store.beat(name, self.due_clock())
        if not found.was_late:
            return Beaten(name)
        # Late until now: its alert (queued by the pass that found it late) resolves.
        key = found.alert_id or heartbeat.dedup_key
        actor = heartbeat_actor(name)
        done = await self.alerts.resolve(key, actor, "heartbeat", note="beats resumed")
        if done is None and key != heartbeat.dedup_key:
            # It joined an alert of the same key still open (acknowledged, say): resolve that.
            done = await self.alerts.resolve(
                heartbeat.dedup_key, actor, "heartbeat", note="beats resumed"
            )
        if done is None or isinstance(done, Refused):
            log.warning(
                "heartbeat %s beats again, but its alert %s was not found to resolve",
                name,
                key,
                extra={"event": "heartbeat_recovered"},
            )
            return Beaten(name)
        log.info(
            "heartbeat %s beats again: alert %s resolved",
            name,
            done["id"],
            extra={"event": "heartbeat_recovered"},
        )
        return Beaten(name, resolved=str(done["id"]))

    async def from_request(self, snapshot: Snapshot, request: Request) -> tuple[str, str]:
        """A ``kind: heartbeat`` request from a queue: (outcome, reason) for its record."""
        done = await self.beat(snapshot, request.name or "", request.producer)
        if isinstance(done, UnknownHeartbeat):
            return "rejected", done.reason
        if isinstance(done, Refused):
            return "refused", done.reason
        if done.resolved:
            return (
                "recorded",
                f"heartbeat {done.name}: beats resumed, alert {done.resolved} resolved",
            )
        return "recorded", f"heartbeat {done.name}"

    async def sweep(self, snapshot: Snapshot) -> list[str]:
        """One maintenance pass: open an alert for each heartbeat that went late since the last
        pass of any replica; the names of those this replica opened."""
        heartbeats = snapshot.heartbeats
        allowed = [(h.name, h.allowed) for h in heartbeats.values()]
        opened: list[str] = []
        for row in await self.store.claim_late(allowed, self.due_clock()):
            heartbeat = heartbeats[row.name]
            if await self._open(heartbeat, row):
                opened.append(row.name)
        # A beat that came while the alert was still on the queue found nothing to resolve:
        # the alert opened after it, and is resolved here (any replica; resolving is idempotent).
        for name, alert_id in await self.store.open_alerts_of_beating(list(heartbeats)):
            await self.alerts.resolve(
                alert_id, heartbeat_actor(name), "heartbeat", note="beats resumed"
            )
        return opened

    async def answer(
        self, snapshot: Snapshot, name: str, producer: str | None
    ) -> dict[str, Any] | Refused | None:
        """A beat as the HTTP API answers it: ``name`` and ``resolved`` (the alert the beat
        resolved, or None); None: no such heartbeat; Refused: not its producer."""
        done = await self.beat(snapshot, name, producer)
        if isinstance(done, UnknownHeartbeat):
            return None
        if isinstance(done, Refused):
            return done
        return {"name": done.name, "resolved": done.resolved}

    async def _open(self, heartbeat: Heartbeat, row: HeartbeatRow) -> bool:
        alert_id = row.alert_id or heartbeat.dedup_key
        request = late_alert(heartbeat, alert_id, row.last_beat, row.since)
        try:
            await self.enqueue(json.dumps(request).encode())
        except Exception:
            # Claimed but not queued: give the claim back, so the next pass (any replica's)
            # opens it rather than leaving the heartbeat late with no alert.
            log.exception("queueing the alert of late heartbeat %s failed", heartbeat.name)
            await self.store.unclaim(heartbeat.name, alert_id)
            return False
        log.warning(
            "heartbeat %s is late: alert %s opened",
            heartbeat.name,
            alert_id,
            extra={"event": "heartbeat_late", "request_id": alert_id},
        )
        return True
