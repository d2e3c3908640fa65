"""A batch's records as the composite rows record_outcomes takes (migration 0022).

One tuple per request and per delivery, in the types' field order. asyncpg checks each element
of an array parameter against ``collections.abc`` (a Python call each), so an array of rows
costs a worker a check per row where an array per column cost one or two per value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifierd import jsonenc
from notifierd.store.records import DeliveryRecord, RequestRecord


def request_rows(
    requests: Sequence[RequestRecord], escape_nul: bool = False
) -> list[tuple[Any, ...]]:
    rows = [
        (
            r.id,
            r.kind,
            r.outcome,
            r.reason,
            r.payload,
            jsonenc.dumps_text(r.routes),
            r.snapshot_id,
            r.received_at,
            r.step.alert_id if r.step else None,
            r.step.round if r.step else None,
            r.step.level if r.step else None,
            r.producer,
        )
        for r in requests
    ]
    return [_without_nul(row) for row in rows] if escape_nul else rows


def delivery_rows(
    deliveries: Sequence[DeliveryRecord], escape_nul: bool = False
) -> list[tuple[Any, ...]]:
    rows = [
        (
            d.id,
            d.request_id,
            d.channel,
            d.channel_type,
            d.recipient,
            d.status,
            d.attempts,
            d.last_error,
            d.latency_ms,
            d.template,
            d.note,
            d.rendered,
            d.provider_id,
            d.snapshot_id,
            d.next_attempt_at,
            d.resolved_person,
            d.resolved_via,
            d.resolved_address,
        )
        for d in deliveries
    ]
    return [_without_nul(row) for row in rows] if escape_nul else rows


def _without_nul(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Postgres refuses NUL in text; text from outside (a provider's error body, a header) may
    hold one. Written as the four characters ``\\x00``."""
    return tuple(
        v.replace("\x00", "\\x00") if isinstance(v, str) and "\x00" in v else v for v in row
    )
