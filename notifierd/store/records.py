"""Rows the pipeline writes: one per request and one per delivery outcome."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from notifierd.status import DeliveryStatus

# Namespace of delivery ids: the same (request, channel, recipient) always has the same id, so a
# request replayed after a crash reuses it and receivers can drop the duplicate.
DELIVERY_NAMESPACE = uuid.UUID("6f1c2a52-4d0e-4b8a-9a57-1d0c8e3f7b21")
_NAMESPACE_BYTES = DELIVERY_NAMESPACE.bytes
# uuid5's version (5) and RFC 4122 variant bits, set on the first 128 bits of the SHA-1.
_KEEP = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_5 = (5 << 76) | (0x8000 << 48)
# uuid.UUID(int=...) re-checks its arguments and range on every call; the value built here is in
# range by construction, so its two slots are set directly (as UUID.__init__ itself sets them).
_new_uuid = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def delivery_id(request_id: str, channel: str, recipient: str) -> uuid.UUID:
    """``uuid.uuid5(DELIVERY_NAMESPACE, "<request>\\0<channel>\\0<recipient>")``, computed in
    under half its time (every delivery row makes one; tests/unit compare the two)."""
    name = f"{request_id}\0{channel}\0{recipient}".encode()
    digest = hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()
    value = _new_uuid(uuid.UUID)
    _set_slot(value, "int", (int.from_bytes(digest[:16]) & _KEEP) | _VERSION_5)
    _set_slot(value, "is_safe", _UNKNOWN_SAFETY)
    return value


@dataclass(frozen=True, slots=True)
class StepRef:
    """Which escalation step a request notifies for: stored as columns beside the request."""

    alert_id: str
    round: int  # 0-based, as in escalation_steps
    level: int  # 1-based

    @property
    def request_id(self) -> str:
        """The id of the step's notification, ``<alert>:r<round>l<level>`` (round 1-based, as
        people count): built here only and never parsed back (the columns say it)."""
        return f"{self.alert_id}:r{self.round + 1}l{self.level}"


@dataclass(slots=True)
class RequestRecord:
    id: str
    kind: str
    outcome: str  # routed, suppressed, deduplicated, unrouted, rejected
    payload: str  # the request as JSON
    received_at: datetime
    reason: str | None = None
    routes: list[str] = field(default_factory=list)
    snapshot_id: str | None = None
    step: StepRef | None = None  # set on an escalation step's notification
    producer: str | None = None  # whose queue it came from (Request.producer)


@dataclass(slots=True)
class DeliveryRecord:
    request_id: str
    channel: str
    channel_type: str
    recipient: str  # '' for channels that deliver to their configured target
    status: DeliveryStatus
    attempts: int = 0
    last_error: str | None = None
    latency_ms: float | None = None
    template: str | None = None
    note: str | None = None
    rendered: str | None = None  # JSON
    provider_id: str | None = None
    snapshot_id: str | None = None
    next_attempt_at: datetime | None = None
    # A schedule delivery (recipient ``schedule:<id>``): who it paged, what decided, and the
    # address it went to — resolved once, at its first attempt (migration 0013).
    resolved_person: str | None = None
    resolved_via: str | None = None
    resolved_address: str | None = None
    # Set on a delivery made because another of the request's died (the dead one's id).
    fallback_of: uuid.UUID | None = None
    # On a dead delivery: the deliveries to make instead (its channel's ``fallback``), written
    # with it in one transaction; the retrier sends them.
    fallbacks: list[DeliveryRecord] = field(default_factory=list)
    id: uuid.UUID = field(init=False)

    def __post_init__(self) -> None:
        self.id = delivery_id(self.request_id, self.channel, self.recipient)


@dataclass(slots=True)
class RetryOutcome:
    id: uuid.UUID
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    latency_ms: float | None = None
    provider_id: str | None = None
    next_attempt_at: datetime | None = None
    # Set when this retry resolved its schedule (a dead one put back by ``dlq retry`` that had
    # paged nobody); None keeps what the row has.
    resolved_person: str | None = None
    resolved_via: str | None = None
    resolved_address: str | None = None
    fallbacks: list[DeliveryRecord] = field(default_factory=list)  # as DeliveryRecord's


@dataclass(frozen=True, slots=True)
class DeadRequest:
    """A request whose processing failed for good: kept whole, to be put back on its queue."""

    request_id: str
    queue: str
    raw: str  # the request as it came, as text Postgres accepts
    error: str
