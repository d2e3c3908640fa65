"""jsonenc.dumps writes what the standard library's compact, non-ASCII JSON writes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from notifierd import jsonenc


def stdlib(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str).encode()


# What a parsed request holds: JSON values with text that is valid Unicode, 64-bit integers.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), children, max_size=5)
    ),
    max_leaves=30,
)


def has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    return False


@given(json_values)
def test_same_document_as_the_standard_library(value: Any) -> None:
    assert json.loads(jsonenc.dumps(value)) == json.loads(stdlib(value))
    if not has_float(value):  # orjson and repr may spell one float differently (1e+16, 1e16)
        assert jsonenc.dumps(value) == stdlib(value)


def test_dates_and_dataclasses_are_written_as_their_str() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    value = {
        "day": date(2026, 1, 2),
        "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "point": Point(1),
        "tuple": (1, "é"),
    }
    assert jsonenc.dumps(value) == stdlib(value)
    assert json.loads(jsonenc.dumps(value))["at"] == "2026-01-02 03:04:05+00:00"


def test_what_orjson_refuses_is_still_written() -> None:
    big = {"n": 2**70, "neg": -(2**65), "text": "日本 🚨"}
    assert jsonenc.dumps(big) == stdlib(big)  # non-ASCII stays UTF-8: size checks see the same
    deep: Any = "é"
    for _ in range(300):  # deeper than orjson goes
        deep = [deep]
    assert jsonenc.dumps(deep) == stdlib(deep)
    surrogate = {"s": "a\ud800b"}  # json.loads accepts a lone surrogate escape in a request
    assert jsonenc.dumps(surrogate) == b'{"s":"a\\ud800b"}'
    assert json.loads(jsonenc.dumps(surrogate)) == surrogate
    assert json.loads(jsonenc.dumps({1: "int key"})) == {"1": "int key"}
    assert jsonenc.dumps_text({"é": 1}) == '{"é":1}'
