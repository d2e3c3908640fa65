"""One request through the stages: dedup → suppression → route → render → deliver, as records."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifierd import jsonenc, metrics
from notifierd.config.holder import Active
from notifierd.intake.dedup import Deduplicator
from notifierd.pipeline.deliver import UNBOUNDED, Attempt, Clock, Deliverer, Waits, message_json
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery
from notifierd.store.records import DeadRequest, DeliveryRecord, RequestRecord

log = logging.getLogger("notifierd.pipeline")

Known = Mapping[tuple[str, str, str], str]  # (request, channel, recipient) -> recorded status


@dataclass
class Processed:
    """What one request produced; written to Postgres before the request leaves Redis."""

    request: RequestRecord
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    dead: DeadRequest | None = None  # processing failed: the request joins the dead-letter queue


def request_payload(request: Request) -> str:
    payload = dict(request.raw)
    payload["id"] = request.id  # generated ids are part of the record
    return jsonenc.dumps_text(payload)


class Processor:
    def __init__(self, deliverer: Deliverer, dedup: Deduplicator | None, clock: Clock) -> None:
        self.deliverer = deliverer
        self.dedup = dedup
        self.clock = clock
        self.alerts: Any = None  # notifierd.alerts.service.AlertService, set by the daemon

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
        )
        out = Processed(record)
        is_alert = request.kind == "alert" and lifecycle and self.alerts is not None
        if is_alert and request.action in ("acknowledge", "resolve"):
            outcome, reason = await self.alerts.from_request(request)
            return self._finish(out, outcome, reason)

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
                for planned in active.router.route(request, self.clock()).deliveries:
                    out.deliveries.append(
                        self._held(request, active, planned, "deduplicated", reason)
                    )
                return self._finish(out, "deduplicated", reason)

        decision = active.router.route(request, self.clock())
        record.routes = list(decision.routes)
        for name in decision.unknown_channels:
            out.deliveries.append(
                DeliveryRecord(
                    request.id,
                    name,
                    "unknown",
                    "",
                    "dead",
                    attempts=0,
                    snapshot_id=active.id,
                    last_error=f"unknown channel {name!r}: no channel of that name in config {active.id}",
                )
            )
        if decision.suppressed_by:
            for planned in decision.deliveries:
                out.deliveries.append(
                    self._held(
                        request,
                        active,
                        planned,
                        "suppressed",
                        f"suppression window {decision.suppressed_by!r}",
                    )
                )
            return self._finish(
                out, "suppressed", f"suppression window {decision.suppressed_by!r} is active"
            )
        if is_alert:
            alert, opened = await self.alerts.trigger(active, request, decision.escalation)
            if not opened:
                return self._finish(
                    out,
                    "joined",
                    f"joined open alert {alert['id']} (occurrence {alert['occurrences']})",
                )
        if not decision.deliveries and not decision.unknown_channels:
            if decision.routes:  # e.g. its only recipient's preferences picked none of the channels
                reason = (
                    f"route(s) {', '.join(decision.routes)} matched but reach no one: the "
                    "preferences of the people they name pick none of their channels"
                )
            else:
                reason = "no route matched and the request names no channels"
            return self._finish(out, "unrouted", reason)

        renderer = Renderer(active.catalog, request)
        # Anything already recorded is final or owned by the retrier: a replay sends only the rest.
        pending = [
            p
            for p in decision.deliveries
            if (request.id, p.channel, p.recipient or "") not in known
        ]
        if len(pending) == 1:  # the common case: no task of its own for one delivery
            out.deliveries.append(
                await self._deliver_safely(
                    active, request, renderer, pending[0], received_at, waits=waits
                )
            )
        else:

            async def deliver(planned: PlannedDelivery) -> DeliveryRecord | None:
                row = await self._deliver_safely(
                    active, request, renderer, planned, received_at, waits=waits
                )
                if stream is None:
                    return row
                stream(row)  # recorded now: a request cut short resumes without it
                return None

            rows = await asyncio.gather(*(deliver(p) for p in pending))
            out.deliveries.extend(row for row in rows if row is not None)
        return self._finish(out, "routed", None)

    async def deliver_to(
        self,
        active: Active,
        request: Request,
        targets: list[tuple[str, str | None, str | None]],
        received_at: datetime,
    ) -> Processed:
        """Deliver to exact (channel, recipient, Slack thread) targets, without routing: an
        alert's follow-ups go where its notifications went."""
        record = RequestRecord(
            id=request.id,
            kind=request.kind,
            outcome="routed",
            payload=request_payload(request),
            received_at=received_at,
            snapshot_id=active.id,
        )
        out = Processed(record)
        renderer = Renderer(active.catalog, request)
        jobs = []
        for name, recipient, thread in targets:
            if name not in active.snapshot.channels:
                out.deliveries.append(
                    DeliveryRecord(
                        request.id,
                        name,
                        "unknown",
                        recipient or "",
                        "dead",
                        snapshot_id=active.id,
                        last_error=f"channel {name!r} is no longer in the config ({active.id})",
                    )
                )
                continue
            source = "request" if request.template else "none"
            planned = PlannedDelivery(name, recipient, request.template, source, None)
            jobs.append(
                self._deliver_safely(active, request, renderer, planned, received_at, thread)
            )
        out.deliveries.extend(await asyncio.gather(*jobs))
        return self._finish(out, "routed", None)

    async def _deliver_safely(
        self,
        active: Active,
        request: Request,
        renderer: Renderer,
        planned: PlannedDelivery,
        received_at: datetime,
        thread_ts: str | None = None,
        *,
        waits: Waits = UNBOUNDED,
    ) -> DeliveryRecord:
        """One delivery; a bug in it kills that delivery (dead, with the error), not its
        siblings, which have been sent and must be recorded. Redis or Postgres failing is
        raised: the whole request is processed again."""
        try:
            return await self._deliver(
                active, request, renderer, planned, received_at, thread_ts, waits
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if infrastructure_failure(exc):
                raise
            log.exception(
                "delivery to %s failed", planned.channel, extra={"request_id": request.id}
            )
            channel = active.snapshot.channels[planned.channel]
            metrics.DEAD_LETTERS.labels(channel.name).inc()
            return DeliveryRecord(
                request.id,
                channel.name,
                channel.type,
                planned.recipient or "",
                "dead",
                snapshot_id=active.id,
                last_error=f"internal error: {type(exc).__name__}: {exc}"[:2000],
            )

    async def _deliver(
        self,
        active: Active,
        request: Request,
        renderer: Renderer,
        planned: PlannedDelivery,
        received_at: datetime,
        thread_ts: str | None = None,
        waits: Waits = UNBOUNDED,
    ) -> DeliveryRecord:
        channel = active.snapshot.channels[planned.channel]
        rendered = renderer.render(planned.template, planned.template_from, channel.type)
        row = DeliveryRecord(
            request.id,
            channel.name,
            channel.type,
            planned.recipient or "",
            "queued",
            template=rendered.template,
            note=rendered.note,
            snapshot_id=active.id,
        )
        if rendered.message is None:  # the request's own template cannot render: permanent
            row.status, row.attempts, row.last_error = "dead", 0, rendered.error
            metrics.DEAD_LETTERS.labels(channel.name).inc()
            log.error(
                "%s", rendered.error, extra={"request_id": request.id, "event": "dead_letter"}
            )
            return row
        row.rendered = message_json(rendered.message)
        attempt: Attempt = await self.deliverer.attempt(
            active.snapshot,
            request,
            channel,
            planned.recipient,
            rendered.message,
            str(row.id),
            0,
            received_at,
            thread_ts,
            waits=waits,
        )
        row.status, row.attempts, row.last_error = attempt.status, attempt.attempts, attempt.error
        row.latency_ms, row.provider_id, row.next_attempt_at = (
            attempt.latency_ms,
            attempt.provider_id,
            attempt.next_attempt_at,
        )
        return row

    def _held(
        self, request: Request, active: Active, planned: PlannedDelivery, status: str, note: str
    ) -> DeliveryRecord:
        channel = active.snapshot.channels[planned.channel]
        metrics.DELIVERIES.labels(channel.name, status).inc()
        return DeliveryRecord(
            request.id,
            channel.name,
            channel.type,
            planned.recipient or "",
            status,
            note=note,
            snapshot_id=active.id,
            template=str(planned.template) if planned.template else None,
        )

    def _finish(self, out: Processed, outcome: str, reason: str | None) -> Processed:
        out.request.outcome = outcome
        out.request.reason = reason
        metrics.REQUESTS.labels(outcome).inc()
        log.info(
            "request %s: %s (%d deliveries)%s",
            out.request.id,
            outcome,
            len(out.deliveries),
            f": {reason}" if reason else "",
            extra={"request_id": out.request.id, "event": "request_processed", "outcome": outcome},
        )
        return out
