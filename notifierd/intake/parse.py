"""Raw bytes from the queue → a Request, or a Rejection saying exactly what is wrong."""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from notifierd.config.compiled_schemas import certainly_valid
from notifierd.config.schema_errors import (
    Wording,
    common_message,
    did_you_mean,
    flatten,
    unknown_keys,
)
from notifierd.config.schemas import validator
from notifierd.request import Request

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1 << 20  # 1 MiB: a notification, not a file transfer
MAX_PROBLEMS = 20  # a reason lists this many problems, then counts the rest
_ID = re.compile(r"[^\s]{1,200}")  # request.schema.json's id

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request that cannot be processed; ``id`` is the producer's id when one was readable."""

    reason: str
    id: str | None = None


def parse_request(
    raw: bytes | bytearray | memoryview | str, producer: str | None = None
) -> Request | Rejection:
    """Decode, validate and build a request. Never raises: anything wrong is a Rejection.

    ``producer``: whose queue ``raw`` was taken from (None: the default queue); the request
    carries it as ``Request.producer``.
    """
    try:
        return _parse(raw, producer)
    except Exception:  # a bug here must reject one request, not stop the daemon
        # The detail is ours to fix, not the producer's: it goes to the log, not the reason.
        log.exception("reading a request failed; it is rejected")
        return Rejection("invalid request: it could not be read (the daemon's log has the cause)")


def _parse(raw: bytes | bytearray | memoryview | str, producer: str | None) -> Request | Rejection:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    size = len(raw)
    if size > MAX_REQUEST_BYTES:
        return Rejection(
            f"request is {_size(size)}, larger than the {_size(MAX_REQUEST_BYTES)} limit; "
            "send large content as an attachment URL"
        )
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(
            f"not UTF-8 text: invalid byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
        )
    text = text.removeprefix("\ufeff")  # a BOM from a Windows editor is harmless
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return Rejection(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    except RecursionError:
        return Rejection("not valid JSON: nested too deeply")
    except _NotAValue as exc:  # NaN/Infinity, or a number beyond a double
        return Rejection(f"not valid JSON: {exc}")
    except ValueError:  # int() refusing thousands of digits, in words a producer knows
        return Rejection(
            f"not valid JSON: a number has more than {sys.get_int_max_str_digits()} digits"
        )
    if not isinstance(data, dict):
        return Rejection(f"a request must be a JSON object, not {_describe(data)}")
    request_id = _usable_id(data.get("id"))
    if "\\u" in text and (bad := _unstorable(data)):
        return Rejection(f"not storable text: {bad}", id=request_id)
    problems = request_problems(data)
    if problems:
        return Rejection(_join(problems), id=request_id)
    return Request.from_dict(data, producer)


def given_id(request: Request) -> bool:
    """Whether the producer gave the request its id (else the intake generated one)."""
    return "id" in request.raw


def with_id(raw: bytes, request_id: str) -> bytes | None:
    """``raw`` (a request without an id, as taken) with ``"id"`` as its first member; None
    when that would make it larger than the intake accepts. The producer's bytes are kept
    as they are: nothing is decoded and written again."""
    brace = raw.find(b"{")  # a valid request is an object: its text starts with its brace
    if brace < 0:
        return None
    member = json.dumps({"id": request_id}, separators=(",", ":"))[1:-1].encode()
    stamped = b"%s{%s,%s" % (raw[:brace], member, raw[brace + 1 :])
    return stamped if len(stamped) <= MAX_REQUEST_BYTES else None


def _usable_id(value: Any) -> str | None:
    """The producer's id, if it is one a rejection can be recorded and looked up under."""
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def _quote(text: str, limit: int = 40) -> str:
    """Producer text inside a one-line reason: escaped (no newlines) and shortened."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return json.dumps(text, ensure_ascii=False)[1:-1]


class _NotAValue(ValueError):
    """A number the JSON text spells but a request cannot carry; the message is the reason."""


def _reject_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's json would accept them and Postgres would not.
    raise _NotAValue(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON syntax but no double: Python reads it as inf, which no channel or
    # Postgres can carry faithfully.
    value = float(text)
    if not math.isfinite(value):
        raise _NotAValue(f"the number {_quote(text)} is too large for a 64-bit float")
    return value


# One decoder for every request: json.loads with any option builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _unstorable(data: Any) -> str | None:
    """A string Postgres cannot store: a NUL character or an unpaired surrogate escape.

    Only reachable through ``\\u`` escapes, so the caller checks for those first (cheap).
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL character (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff)"
    return None


def request_problems(data: Any) -> list[str]:
    """Every schema violation of a decoded request, in words a producer understands.

    First the request schema's code generated ahead of time by fastjsonschema (~20x faster than
    jsonschema on the hot path; it writes the schema's defaults into ``data``); only a request
    it refuses goes through jsonschema, for every problem in words. Generated, not compiled at
    the first request: compiling took ~4 MiB of transient memory that stayed in every worker's
    peak RSS (bench/README.md)."""
    if certainly_valid("request", data):
        return []
    problems: list[str] = []
    errors = validator("request").iter_errors(data)
    for error in flatten(errors, keep_root_alternatives=True):
        if error.validator == "additionalProperties":  # one problem per unknown key
            extra, allowed = unknown_keys(error)
            field = _field(error.absolute_path)
            problems += [
                f"unknown key '{_quote(k)}' in {field}{did_you_mean(k, allowed)}" for k in extra
            ]
        else:
            problems.append(_message(error))
    return problems


def _join(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_PROBLEMS])
    more = len(problems) - MAX_PROBLEMS
    return f"{shown}; and {more} more problem(s)" if more > 0 else shown


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


_JSON_WORDING = Wording(_TYPE_NAMES, "null", _quote, hint_any_value=False)
_describe = _JSON_WORDING.describe


def _field(path: Iterable[Any]) -> str:
    """``attachments[0].filename`` style; the request itself when the path is empty."""
    text = ""
    for part in path:
        name = _quote(str(part))
        text += f"[{part}]" if isinstance(part, int) else (f".{name}" if text else name)
    return f"'{text}'" if text else "the request"


def _message(error: ValidationError) -> str:
    kind = error.validator
    value = error.instance
    path = tuple(error.absolute_path)
    field = _field(path)
    if kind == "anyOf" and not path:
        return _needs_content(value)
    if kind == "anyOf" and error.context and all(e.validator == "required" for e in error.context):
        options = " or ".join(f"'{_missing(e)}'" for e in error.context)
        return f"{field} needs {options}"
    if kind == "required":
        return f"{field} is missing the required key '{_missing(error)}'"
    shared = common_message(error, field, _JSON_WORDING)
    if shared is not None:
        return shared
    return f"{field}: {_quote(error.message, limit=200)}"


def _missing(error: ValidationError) -> str:
    message = str(error.message)
    return message.split("'")[1] if message.count("'") >= 2 else message


def _needs_content(data: Any) -> str:
    """The request-level rule: something to send."""
    return "a request needs at least one of 'title', 'message' or 'template' (with 'context')"
