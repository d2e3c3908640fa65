"""JSON documents on the hot path (webhook bodies, records): orjson, ~10x the standard library.

The output matches ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)``
for what requests and templates contain: dates and dataclasses still go through ``str`` as they
always did. What orjson refuses (integers beyond 64 bits, lone surrogates, both possible in a
request's metadata; nesting deeper than 254 levels) falls back to the standard library: the
same bytes, except that text with a lone surrogate has its non-ASCII escaped so it encodes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON; values JSON has no type for are written as ``str(value)``."""
    try:
        return orjson.dumps(obj, default=str, option=_OPTIONS)
    except orjson.JSONEncodeError:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            return text.encode()
        except UnicodeEncodeError:  # a lone surrogate: escape non-ASCII so it encodes
            return json.dumps(obj, separators=(",", ":"), default=str).encode()


def dumps_text(obj: Any) -> str:
    """:func:`dumps` as ``str``, for text columns."""
    return dumps(obj).decode()
