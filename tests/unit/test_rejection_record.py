"""What the rejected list keeps of a request: all of a small one, a bounded prefix of a huge one."""

from __future__ import annotations

import base64
import json

from notifierd.intake.consumer import KEPT_RAW_BYTES, kept_prefix, rejection_record


def test_a_small_request_is_kept_whole() -> None:
    record = json.loads(rejection_record(b"{oops", "not valid JSON"))
    assert (record["raw"], record["size"], record["truncated"]) == ("{oops", 5, False)


def test_a_huge_request_keeps_a_prefix_cut_between_characters() -> None:
    raw = b"x" + "€".encode() * KEPT_RAW_BYTES  # three bytes each: the limit falls inside one
    record = json.loads(rejection_record(raw, "too large"))
    assert record["encoding"] == "utf-8"
    assert (record["size"], record["truncated"]) == (len(raw), True)
    kept = record["raw"].encode()
    assert raw.startswith(kept) and KEPT_RAW_BYTES - 3 < len(kept) <= KEPT_RAW_BYTES


def test_binary_is_kept_as_a_bounded_base64_prefix() -> None:
    raw = b"\xff" * (KEPT_RAW_BYTES * 4)
    record = json.loads(rejection_record(raw, "not UTF-8 text"))
    assert record["encoding"] == "base64"
    assert base64.b64decode(record["raw"]) == kept_prefix(raw) == raw[:KEPT_RAW_BYTES]
