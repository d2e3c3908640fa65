"""What processing a request produced: its records, and the outcome they add up to."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from notifierd import jsonenc, metrics
from notifierd.request import Request
from notifierd.routing.router import RoutingDecision
from notifierd.status import DeliveryStatus
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


def joined_note(*notes: str | None) -> str | None:
    """One note column for everything worth recording with a delivery, in order."""
    text = "; ".join(n for n in notes if n)
    return text or None


def unknown_channel_error(name: str, config_id: str) -> str:
    """Why a delivery to a channel the request names but the config lacks is dead at once."""
    return f"unknown channel {name!r}: no channel of that name in config {config_id}"


def rejected_reason(refused: Sequence[str]) -> str:
    """A request refused by routing (recipients it may not name), as its outcome records it."""
    return "; ".join(refused)


def suppressed_reason(decision: RoutingDecision) -> str:
    """Why a request was held back, as its outcome records it: the config's suppression window,
    or the run-time silence (its id, who added it, until when, why)."""
    if decision.silenced_by is not None:
        return f"{decision.silenced_by.describe()} is active"
    return f"suppression window {decision.suppressed_by!r} is active"


def suppressed_note(decision: RoutingDecision) -> str:
    """What each held delivery of a suppressed request records as its reason."""
    if decision.silenced_by is not None:
        return decision.silenced_by.describe()
    return f"suppression window {decision.suppressed_by!r}"


def unrouted_reason(routes: Sequence[str]) -> str:
    """Why a request reaches no one, as its outcome records it."""
    if routes:  # e.g. its only recipient's preferences picked none of the channels
        return (
            f"route(s) {', '.join(routes)} matched but reach no one: the "
            "preferences of the people they name pick none of their channels"
        )
    return "no route matched and the request names no channels"


def no_alert_named(action: str | None) -> str:
    """Why an acknowledge or resolve without a dedup_key is ignored: it names no alert."""
    article = "an" if (action or "a")[0] in "aeiou" else "a"
    return f"{article} {action} request names its alert with dedup_key"


def _all_delivered(out: Processed) -> bool:
    return bool(out.deliveries) and all(
        d.status == DeliveryStatus.DELIVERED for d in out.deliveries
    )


def finish(out: Processed, outcome: str, reason: str | None) -> Processed:
    """Set the request's outcome; count and log it. A request routed and delivered everywhere at
    once logs at DEBUG: that line was ~10 % of a worker's CPU in a burst at INFO, and Postgres
    records every delivery anyway; every other outcome (rejected, suppressed, retrying, dead,
    ...) keeps its INFO line, and failures, retries and dead letters log their own."""
    out.request.outcome = outcome
    out.request.reason = reason
    metrics.REQUESTS_BY(outcome).inc()
    level = logging.DEBUG if outcome == "routed" and _all_delivered(out) else logging.INFO
    if not log.isEnabledFor(level):
        return out
    log.log(
        level,
        "request %s: %s (%d deliveries)%s",
        out.request.id,
        outcome,
        len(out.deliveries),
        f": {reason}" if reason else "",
        extra={"request_id": out.request.id, "event": "request_processed", "outcome": outcome},
    )
    return out
