"""What the store's listings return: small frozen records, so their readers are type-checked."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import asyncpg

from notifierd.status import AlertStatus, DeadLetterKind, DeliveryStatus

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def from_rows(record: type[R], rows: list[asyncpg.Record]) -> list[R]:
    """Rows of the query that lists ``record``s: its columns are the record's fields."""
    names = [f.name for f in fields(record)]
    return [record(**{name: row[name] for name in names}) for row in rows]


@dataclass(frozen=True, slots=True)
class AlertGauges:
    """What /metrics shows of alerts (query ``alert_gauges``)."""

    open_alerts: int
    escalation_overdue: float  # seconds the oldest step that should have fired has waited


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A delivery found by a search (query ``search_deliveries``)."""

    id: uuid.UUID
    request_id: str
    channel: str
    channel_type: str
    recipient: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    latency_ms: float | None
    template: str | None
    created_at: datetime
    updated_at: datetime
    title: str | None
    kind: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", DeliveryStatus(self.status))

    @property
    def cursor(self) -> DeliveryCursor:
        """Where the page after this row starts."""
        return DeliveryCursor(self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class DeliveryCursor:
    """A position in the newest-first order of deliveries: the keyset of the last row seen.
    Callers carry it as an opaque token (``token`` / ``parse``)."""

    created_at: datetime
    id: uuid.UUID

    def token(self) -> str:
        text = f"{self.created_at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> DeliveryCursor | None:
        """The cursor a ``token`` stands for; None when it is not one."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, _, ident = text.partition("|")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None:
                return None
            return cls(moment, uuid.UUID(ident))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass(frozen=True, slots=True)
class EventCursor:
    """A position in an alert's timeline, newest first: the keyset (``at``, ``id``) of the
    oldest event a page showed. Callers carry it as an opaque token (``token`` / ``parse``)."""

    at: datetime
    id: int

    def token(self) -> str:
        text = f"{self.at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> EventCursor | None:
        """The cursor a ``token`` stands for; None when it is not one."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, _, ident = text.partition("|")
            moment = datetime.fromisoformat(at)
            if moment.tzinfo is None or not ident.isdigit():
                return None
            return cls(moment, int(ident))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass(frozen=True, slots=True)
class TimelinePage:
    """A page of an alert's timeline events: the newest ``limit`` of them, or the newest
    ``limit`` older than ``before``."""

    limit: int
    before: EventCursor | None = None


@dataclass(frozen=True, slots=True)
class DeliverySearch:
    """What a delivery search asks for; every filter is optional. ``channel``: a channel name
    or type; ``title``: a case-insensitive part of the request's title; ``since``/``until``:
    when the delivery was created; ``after``: continue after this row."""

    request_id: str | None = None
    title: str | None = None
    channel: str | None = None
    recipient: str | None = None
    status: DeliveryStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: DeliveryCursor | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An entry of the dead-letter queue (query ``dlq_list``): a delivery or a request."""

    kind: DeadLetterKind
    delivery_id: uuid.UUID | None  # None for a request
    request_id: str
    channel: str | None
    recipient: str | None
    error: str | None
    attempts: int
    dead_at: datetime
    title: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DeadLetterKind(self.kind))


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """An alert as ``alerts list`` shows it (query ``list_alerts``): open ones first.
    ``current_round``/``current_level``: the last escalation step fired (None before any);
    ``next_escalation_at``: when the next pending step is due (None: none pending)."""

    id: str
    dedup_key: str
    status: AlertStatus
    policy: str | None
    title: str | None
    severity: str | None
    occurrences: int
    started_at: datetime
    acknowledged_by: str | None
    resolved_by: str | None
    updated_at: datetime
    current_round: int | None
    current_level: int | None
    next_escalation_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", AlertStatus(self.status))

    @property
    def level(self) -> str | None:
        """The current level as people read it: ``level 2``, ``level 1 (round 2)`` on a
        repeat; None before the first step fired."""
        if self.current_level is None:
            return None
        again = f" (round {self.current_round + 1})" if self.current_round else ""
        return f"level {self.current_level}{again}"


def from_row(record: type[R], row: asyncpg.Record) -> R:
    """One row of a query whose columns include the record's fields."""
    return record(**{f.name: row[f.name] for f in fields(record)})


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert (queries ``find_alert``, ``alert_of_step``): what acknowledge and resolve act on."""

    id: str
    dedup_key: str
    status: AlertStatus
    policy: str | None
    title: str | None
    severity: str | None
    occurrences: int
    snapshot_id: str
    started_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    opened_by: str | None  # a principal id; None for alerts from before principals
    routes: tuple[str, ...]  # the routes its opening request matched

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", AlertStatus(self.status))
        object.__setattr__(self, "routes", tuple(self.routes or ()))


@dataclass(frozen=True, slots=True)
class OpenedAlert:
    """The alert a trigger opened or joined (query ``open_alert``)."""

    id: str
    dedup_key: str
    status: AlertStatus
    policy: str | None
    occurrences: int
    started_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", AlertStatus(self.status))


@dataclass(frozen=True, slots=True)
class DueRetry:
    """A delivery claimed to be sent again (queries ``claim_due_retries``, ``..._elsewhere``)."""

    id: uuid.UUID
    request_id: str
    channel: str
    channel_type: str
    recipient: str
    attempts: int
    template: str | None
    note: str | None
    rendered: str | None  # the message as first rendered, JSON
    payload: str  # the request, JSON
    received_at: datetime
    fallback_of: uuid.UUID | None  # set on a fallback delivery, which never falls back again
    # A schedule delivery's address, decided at its first attempt; None: not one, or it paged
    # nobody (a dead one put back: resolved at this retry).
    resolved_address: str | None = None
    resolved_person: str | None = None
    resolved_via: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatRow:
    """A heartbeat's record (queries ``list_heartbeats``, ``claim_late_heartbeats``)."""

    name: str
    since: datetime  # expected from: when the config first named it, or its first beat
    last_beat: datetime | None
    late_since: datetime | None
    alert_id: str | None  # the alert its last lateness opened


@dataclass(frozen=True, slots=True)
class SilenceRow:
    """A run-time silence (table ``runtime_silences``): matcher strings, as the config's."""

    id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None
    expired_by: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "matchers", list(self.matchers))

    def in_force(self, now: datetime) -> bool:
        return self.expired_at is None and self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class OverrideRow:
    """A run-time schedule override (table ``runtime_overrides``)."""

    id: int
    schedule: str
    person: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    removed_at: datetime | None
    removed_by: str | None

    def in_force(self, now: datetime) -> bool:
        return self.removed_at is None and self.starts_at <= now < self.ends_at
