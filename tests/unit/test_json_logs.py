"""The daemon's JSON log lines: one object per line, whatever the extras hold."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from notifierd.logs import JsonFormatter


def line(msg: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("notifierd.pipeline", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    text = JsonFormatter().format(record)
    assert "\n" not in text
    parsed: dict[str, object] = json.loads(text)
    return parsed


def test_a_line_carries_the_message_and_the_extras() -> None:
    out = line("request %s: %s", "r-1", "routed", request_id="r-1", event="request_processed")
    assert out["msg"] == "request r-1: routed"
    assert (out["level"], out["logger"]) == ("info", "notifierd.pipeline")
    assert (out["request_id"], out["event"]) == ("r-1", "request_processed")
    assert isinstance(out["ts"], str) and out["ts"].endswith("+00:00")


def test_values_json_has_no_type_for_are_written_as_text() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    out = line("x", when=at, ids={1}, path=Path("/tmp/a"))
    assert out["when"] == str(at)  # str(), as json.dumps(default=str) wrote it
    assert (out["ids"], out["path"]) == ("{1}", "/tmp/a")


def test_what_orjson_refuses_is_still_written() -> None:
    out = line("big", count=1 << 70, text="lone \udc80 surrogate", by_number={1: "one"})
    assert out["count"] == 1 << 70
    assert out["by_number"] == {"1": "one"}
    assert "surrogate" in str(out["text"])
