"""What processing a request produced: its records, and the outcome they add up to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from notifierd import jsonenc, metrics
from notifierd.request import Request
from notifierd.store.records import DeadRequest, DeliveryRecord, RequestRecord

log = logging.getLogger("notifierd.pipeline")

Known = Mapping[tuple[str, str, str], str]  # (request, channel, recipient) -> recorded status


@dataclass
class Processed:
    """What one request produced; written to Postgres before the request leaves Redis."""

    request: RequestRecord
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    dead: DeadRequest | None = None  # processing failed: the request joins the dead-letter queue


# Writes what alerts send themselves (follow-ups, escalation steps) straight to Postgres: they
# have no queued request to acknowledge, so they skip the recorder.
Write = Callable[[Sequence["Processed"]], Awaitable[None]]


def request_payload(request: Request) -> str:
    payload = dict(request.raw)
    payload["id"] = request.id  # generated ids are part of the record
    return jsonenc.dumps_text(payload)


def finish(out: Processed, outcome: str, reason: str | None) -> Processed:
    """Set the request's outcome; count and log it."""
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
