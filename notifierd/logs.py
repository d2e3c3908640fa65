"""Structured logs: one JSON object per line in production, readable lines in a terminal."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Values JSON has no type for are written as str(value), as json.dumps(default=str) does.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_line(out: dict[str, Any]) -> str:
    """One log line: orjson (the daemon logs a line per request at INFO, and the standard
    library's json.dumps(default=...) builds an encoder per call: ~20 µs of a line's ~50);
    what orjson refuses (integers beyond 64 bits, lone surrogates, non-string keys) goes
    through the standard library, as every line did before."""
    try:
        return orjson.dumps(out, default=str, option=_ORJSON_OPTIONS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(out, default=str)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return _json_line(out)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [{rid}]" if rid else line


def setup(level: str = "INFO", fmt: str | None = None) -> None:
    """``fmt``: json, text, or None to pick json unless stderr is a terminal."""
    fmt = (
        fmt or os.environ.get("NOTIFIERD_LOG_FORMAT") or ("text" if sys.stderr.isatty() else "json")
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "asyncio",
        "slack_sdk",
        "aiohttp.access",
        "watchfiles",
        "apscheduler",
        "python_http_client",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
