"""The timestamps webhook and PagerDuty bodies carry: exactly what datetime.isoformat() writes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from notifierd.channels.base import utc_iso


def reference(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")


def test_known_values() -> None:
    assert utc_iso(0) == "1970-01-01T00:00:00Z"
    assert utc_iso(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_same_as_isoformat(timestamp: float) -> None:
    assert utc_iso(timestamp) == reference(timestamp)


def test_same_within_one_second_and_across_its_end() -> None:
    base = 1_700_000_000
    for t in (base + 0.999_999_6, base + 0.5, base + 1.0, base + 0.000_000_4, base + 1.999_999_4):
        assert utc_iso(t) == reference(t)
