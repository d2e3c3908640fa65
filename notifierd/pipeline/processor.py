"""One request through the stages: dedup → suppression → route → render → deliver, as records."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from notifierd.active import Active
from notifierd.config.model import Snapshot
from notifierd.pipeline.dedup import Deduplicator
from notifierd.pipeline.deliver import UNBOUNDED, Clock, Waits
from notifierd.pipeline.deliveries import Deliveries
from notifierd.pipeline.outcome import (
    Known,
    Processed,
    finish,
    rejected_reason,
    request_payload,
    suppressed_note,
    suppressed_reason,
    unknown_channel_error,
    unrouted_reason,
)
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery
from notifierd.status import DeliveryStatus
from notifierd.store.records import DeliveryRecord, RequestRecord
from notifierd.store.rows import OpenedAlert


class AlertLifecycle(Protocol):
    """What the processor asks of alerts (notifierd.alerts.service.AlertService)."""

    async def trigger(
        self,
        active: Active,
        request: Request,
        policy_id: str | None,
        routes: tuple[str, ...] = (),
    ) -> tuple[OpenedAlert, bool]: ...

    async def from_request(self, request: Request) -> tuple[str, str]: ...


class HeartbeatBeats(Protocol):
    """What the processor asks of heartbeats (notifierd.alerts.heartbeats.Heartbeats)."""

    async def from_request(self, snapshot: Snapshot, request: Request) -> tuple[str, str]: ...


class Processor:
    def __init__(
        self,
        deliveries: Deliveries,
        dedup: Deduplicator | None,
        clock: Clock,
        alerts: AlertLifecycle | None = None,
        heartbeats: HeartbeatBeats | None = None,
    ) -> None:
        self.deliveries = deliveries
        self.dedup = dedup
        self.clock = clock
        self.alerts = alerts
        self.heartbeats = heartbeats

    async def process(
        self,
        active: Active,
        request: Request,
        received_at: datetime,
        known: Known,
        *,
        lifecycle: bool = True,
        waits: Waits = UNBOUNDED,
        stream: Callable[[DeliveryRecord], None] | None = None,
    ) -> Processed:
        """Run the stages for ``request``. ``lifecycle=False`` for notifications an alert sends
        itself (escalation steps): they neither open alerts nor count as duplicates.
        ``waits``: see Deliverer.attempt. ``stream``: where each of several deliveries goes
        the moment it finishes (the recorder), instead of with the request's outcome."""
        snapshot = active.snapshot
        record = RequestRecord(
            id=request.id,
            kind=request.kind,
            outcome="routed",
            payload=request_payload(request),
            received_at=received_at,
            snapshot_id=active.id,
            producer=request.producer,
        )
        out = Processed(record)
        if request.kind == "heartbeat":
            # A beat is recorded, not sent: it routes nowhere (its late alert does).
            if self.heartbeats is None or not lifecycle:
                return finish(out, "ignored", "heartbeats are not recorded here")
            outcome, reason = await self.heartbeats.from_request(snapshot, request)
            return finish(out, outcome, reason)
        alerts = self.alerts if lifecycle and request.kind == "alert" else None
        # Neither routed nor sent on its own: these act on the open alert and tell its places.
        if alerts is not None and request.action in ("acknowledge", "resolve", "update"):
            outcome, reason = await alerts.from_request(request)
            return finish(out, outcome, reason)

        decision = active.router.route(request, self.clock(), active.silences)
        record.routes = list(decision.routes)
        if decision.refused:
            # Before dedup and alerts: a refused request claims no dedup key and opens nothing.
            return finish(out, "rejected", rejected_reason(decision.refused))

        # A notification's dedup_key is a time window; an alert's joins its open alert (below).
        if request.dedup_key and self.dedup is not None and lifecycle and request.kind != "alert":
            holder = await self.dedup.claim(
                request.dedup_key, request.id, snapshot.settings.dedup_window
            )
            if holder is not None:
                reason = (
                    f"dedup_key {request.dedup_key!r} was already sent by request {holder} "
                    "within the dedup window"
                )
                # Where it would have gone, each recorded as deduplicated: history shows it.
                for planned in decision.deliveries:
                    out.deliveries.append(
                        self.deliveries.held(
                            request, active, planned, DeliveryStatus.DEDUPLICATED, reason
                        )
                    )
                return finish(out, "deduplicated", reason)

        for name in decision.unknown_channels:
            out.deliveries.append(
                DeliveryRecord(
                    request.id,
                    name,
                    "unknown",
                    "",
                    DeliveryStatus.DEAD,
                    attempts=0,
                    snapshot_id=active.id,
                    last_error=unknown_channel_error(name, active.id),
                )
            )
        if decision.suppressed_by:
            for planned in decision.deliveries:
                out.deliveries.append(
                    self.deliveries.held(
                        request,
                        active,
                        planned,
                        DeliveryStatus.SUPPRESSED,
                        suppressed_note(decision),
                    )
                )
            return finish(out, "suppressed", suppressed_reason(decision))
        if alerts is not None:
            alert, opened = await alerts.trigger(
                active, request, decision.escalation, decision.routes
            )
            if not opened:
                return finish(
                    out,
                    "joined",
                    f"joined open alert {alert.id} (occurrence {alert.occurrences})",
                )
        if not decision.deliveries and not decision.unknown_channels:
            return finish(out, "unrouted", unrouted_reason(decision.routes))

        renderer = Renderer(active.catalog, request)
        # A dead delivery's fallback to where the request goes anyway would send it twice.
        reached = frozenset((p.channel, p.recipient or "") for p in decision.deliveries)
        # Anything already recorded is final or owned by the retrier: a replay sends only the rest.
        pending = [
            p
            for p in decision.deliveries
            if (request.id, p.channel, p.recipient or "") not in known
        ]
        if len(pending) == 1:  # the common case: no task of its own for one delivery
            out.deliveries.append(
                await self.deliveries.deliver(
                    active, request, renderer, pending[0], received_at, waits=waits, reached=reached
                )
            )
        else:

            async def deliver(planned: PlannedDelivery) -> DeliveryRecord | None:
                row = await self.deliveries.deliver(
                    active, request, renderer, planned, received_at, waits=waits, reached=reached
                )
                if stream is None:
                    return row
                stream(row)  # recorded now: a request cut short resumes without it
                return None

            rows = await asyncio.gather(*(deliver(p) for p in pending))
            out.deliveries.extend(row for row in rows if row is not None)
        return finish(out, "routed", None)
