"""The per-request log line: DEBUG when every delivery went out at once, INFO otherwise."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from notifierd.pipeline.outcome import Processed, finish
from notifierd.status import DeliveryStatus
from notifierd.store.records import DeliveryRecord, RequestRecord


def processed(*statuses: DeliveryStatus) -> Processed:
    record = RequestRecord("r-1", "notification", "routed", "{}", datetime.now(UTC))
    rows = [
        DeliveryRecord("r-1", f"ch-{i}", "webhook", "", status) for i, status in enumerate(statuses)
    ]
    return Processed(record, rows)


def logged(caplog: pytest.LogCaptureFixture, out: Processed, outcome: str) -> list[int]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="notifierd.pipeline"):
        finish(out, outcome, None)
    return [r.levelno for r in caplog.records if getattr(r, "event", None) == "request_processed"]


def test_a_request_delivered_everywhere_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    delivered = DeliveryStatus.DELIVERED
    assert logged(caplog, processed(delivered, delivered), "routed") == [logging.DEBUG]


@pytest.mark.parametrize(
    "statuses",
    [
        (DeliveryStatus.DELIVERED, DeliveryStatus.RETRYING),
        (DeliveryStatus.DEAD,),
        (DeliveryStatus.DRY_RUN,),
        (DeliveryStatus.HELD,),
        (),  # streamed deliveries: the line cannot tell, so it stays
    ],
)
def test_anything_short_of_delivered_keeps_its_info_line(
    caplog: pytest.LogCaptureFixture, statuses: tuple[DeliveryStatus, ...]
) -> None:
    assert logged(caplog, processed(*statuses), "routed") == [logging.INFO]


@pytest.mark.parametrize("outcome", ["rejected", "suppressed", "deduplicated", "unrouted"])
def test_other_outcomes_keep_their_info_line(
    caplog: pytest.LogCaptureFixture, outcome: str
) -> None:
    assert logged(caplog, processed(DeliveryStatus.DELIVERED), outcome) == [logging.INFO]


def test_at_info_the_delivered_line_is_not_written(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="notifierd.pipeline"):
        finish(processed(DeliveryStatus.DELIVERED), "routed", None)
    assert [r for r in caplog.records if getattr(r, "event", None) == "request_processed"] == []
