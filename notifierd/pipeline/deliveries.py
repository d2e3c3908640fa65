"""One delivery of a request: render it for its channel, send it, turn the attempt into a row.

Both the processor (routed deliveries) and the alert service (follow-ups that go where an alert's
notifications went) deliver through here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import datetime

from notifierd import metrics
from notifierd.active import Active
from notifierd.pipeline.deliver import UNBOUNDED, Attempt, Deliverer, Waits, message_json
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.fallback import Died, fallback_deliveries
from notifierd.pipeline.oncall import mentioning, resolve_schedule
from notifierd.pipeline.outcome import Processed, finish, joined_note, request_payload
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery
from notifierd.schedules.paging import NOBODY, Unpaged
from notifierd.status import DeliveryStatus
from notifierd.store.records import DeliveryRecord, RequestRecord

log = logging.getLogger("notifierd.pipeline")


class Deliveries:
    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer

    async def deliver_to(
        self,
        active: Active,
        request: Request,
        targets: list[tuple[str, str | None, str | None]],
        received_at: datetime,
    ) -> Processed:
        """Deliver to exact (channel, recipient, reply_to) targets, without routing: an alert's
        follow-ups go where its notifications went, each a reply to the message it follows up
        (its provider reference, which only its channel reads)."""
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
        for name, recipient, reply_to in targets:
            if name not in active.snapshot.channels:
                out.deliveries.append(
                    DeliveryRecord(
                        request.id,
                        name,
                        "unknown",
                        recipient or "",
                        DeliveryStatus.DEAD,
                        snapshot_id=active.id,
                        last_error=f"channel {name!r} is no longer in the config ({active.id})",
                    )
                )
                continue
            source = "request" if request.template else "none"
            planned = PlannedDelivery(name, recipient, request.template, source, None)
            jobs.append(self.deliver(active, request, renderer, planned, received_at, reply_to))
        out.deliveries.extend(await asyncio.gather(*jobs))
        return finish(out, "routed", None)

    async def deliver(
        self,
        active: Active,
        request: Request,
        renderer: Renderer,
        planned: PlannedDelivery,
        received_at: datetime,
        reply_to: str | None = None,
        *,
        waits: Waits = UNBOUNDED,
        reached: Collection[tuple[str, str]] = (),
    ) -> DeliveryRecord:
        """One delivery; a bug in it kills that delivery (dead, with the error), not its
        siblings, which have been sent and must be recorded. Redis or Postgres failing is
        raised: the whole request is processed again. A delivery that dies carries the
        deliveries its channel falls back to, except to the (channel, recipient) pairs in
        ``reached``, which the request is sent to anyway."""
        try:
            return await self._render_and_send(
                active, request, renderer, planned, received_at, reply_to, waits, reached
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
                DeliveryStatus.DEAD,
                snapshot_id=active.id,
                last_error=f"internal error: {type(exc).__name__}: {exc}"[:2000],
            )

    async def _render_and_send(
        self,
        active: Active,
        request: Request,
        renderer: Renderer,
        planned: PlannedDelivery,
        received_at: datetime,
        reply_to: str | None = None,
        waits: Waits = UNBOUNDED,
        reached: Collection[tuple[str, str]] = (),
    ) -> DeliveryRecord:
        channel = active.snapshot.channels[planned.channel]
        rendered = renderer.render(planned.template, planned.template_from, channel.type)
        row = DeliveryRecord(
            request.id,
            channel.name,
            channel.type,
            planned.recipient or "",
            DeliveryStatus.QUEUED,
            template=rendered.template,
            note=joined_note(planned.note, rendered.note),
            snapshot_id=active.id,
        )
        if rendered.message is None:  # the request's own template cannot render: permanent
            row.status, row.attempts, row.last_error = DeliveryStatus.DEAD, 0, rendered.error
            metrics.DEAD_LETTERS.labels(channel.name).inc()
            log.error(
                "%s", rendered.error, extra={"request_id": request.id, "event": "dead_letter"}
            )
            return row
        # A schedule is resolved here, once: the row keeps who it paged, and retries reuse it.
        paged = resolve_schedule(
            active.snapshot, planned.recipient, channel, request, self.deliverer.clock()
        )
        if isinstance(paged, Unpaged):
            # Kept rendered: `dlq retry` resolves the schedule again and sends this message.
            row.rendered = message_json(rendered.message)
            row.status, row.attempts, row.last_error = DeliveryStatus.DEAD, 0, paged.reason
            row.resolved_person, row.resolved_via = paged.person, NOBODY
            metrics.DEAD_LETTERS.labels(channel.name).inc()
            if channel.fallback:  # dead like any other: its channel's fallbacks apply
                died = Died(row.id, channel, row.recipient, row.template, row.last_error)
                row.fallbacks = fallback_deliveries(
                    active, request, renderer, died, self.deliverer.clock(), reached
                )
            return row
        address = planned.recipient
        message = rendered.message
        if paged is not None:
            address = paged.address
            row.resolved_person, row.resolved_via = paged.person, paged.via
            row.resolved_address = paged.address
            message = mentioning(message, paged)
        row.rendered = message_json(message)
        attempt: Attempt = await self.deliverer.attempt(
            active.snapshot,
            request,
            channel,
            address,
            message,
            str(row.id),
            0,
            received_at,
            reply_to,
            waits=waits,
        )
        row.status, row.attempts, row.last_error = attempt.status, attempt.attempts, attempt.error
        row.latency_ms, row.provider_id, row.next_attempt_at = (
            attempt.latency_ms,
            attempt.provider_id,
            attempt.next_attempt_at,
        )
        if row.status == DeliveryStatus.DEAD and channel.fallback:
            died = Died(row.id, channel, row.recipient, row.template, row.last_error)
            row.fallbacks = fallback_deliveries(
                active, request, renderer, died, self.deliverer.clock(), reached
            )
        return row

    def held(
        self,
        request: Request,
        active: Active,
        planned: PlannedDelivery,
        status: DeliveryStatus,
        note: str,
    ) -> DeliveryRecord:
        channel = active.snapshot.channels[planned.channel]
        metrics.DELIVERIES_BY(channel.name, status).inc()
        return DeliveryRecord(
            request.id,
            channel.name,
            channel.type,
            planned.recipient or "",
            status,
            note=joined_note(note, planned.note),
            snapshot_id=active.id,
            template=str(planned.template) if planned.template else None,
        )
