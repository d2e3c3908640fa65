"""parse_request: every bad input becomes a Rejection that says what is wrong; nothing raises."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifierd.intake.parse import (
    MAX_REQUEST_BYTES,
    Rejection,
    given_id,
    parse_request,
    with_id,
)
from notifierd.request import Request, TemplateRef


def reason(raw: bytes | str) -> str:
    result = parse_request(raw)
    assert isinstance(result, Rejection), result
    return result.reason


def encode(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_a_valid_message_request() -> None:
    request = parse_request(
        encode({"id": "deploy-1", "title": "Deployed", "message": "v2.1.0", "priority": "high"})
    )
    assert isinstance(request, Request)
    assert (request.id, request.title, request.priority) == ("deploy-1", "Deployed", "high")


def test_a_valid_template_request() -> None:
    request = parse_request(
        encode({"template": "deployment_complete@1.0", "context": {"environment": "prod"}})
    )
    assert isinstance(request, Request)
    assert request.template == TemplateRef("deployment_complete", "1.0")
    assert request.id  # generated


def test_an_alert_resolve_needs_no_content() -> None:
    request = parse_request(encode({"kind": "alert", "action": "resolve", "dedup_key": "db"}))
    assert isinstance(request, Request)
    assert request.action == "resolve"


def test_a_byte_order_mark_is_tolerated() -> None:
    assert isinstance(
        parse_request(b"\xef\xbb\xbf" + encode({"title": "t", "message": "m"})), Request
    )


def test_malformed_json_names_line_and_column() -> None:
    assert reason(b'{"title": "t",\n "message": }') == (
        "not valid JSON: Expecting value at line 2, column 13"
    )
    assert reason(b"") == "not valid JSON: Expecting value at line 1, column 1"


def test_json_that_is_not_an_object() -> None:
    assert reason(b"[1, 2]") == "a request must be a JSON object, not a list"
    assert reason(b'"hello"') == "a request must be a JSON object, not string 'hello'"
    assert reason(b"null") == "a request must be a JSON object, not null"


def test_nan_is_not_json() -> None:
    assert "NaN" in reason(b'{"title": "t", "message": "m", "metadata": {"x": NaN}}')


def test_a_number_beyond_a_double_is_refused() -> None:
    assert reason(b'{"title": "t", "message": "m", "metadata": {"x": -1e400}}') == (
        "not valid JSON: the number -1e400 is too large for a 64-bit float"
    )
    assert not isinstance(
        parse_request(b'{"title": "t", "message": "m", "metadata": {"x": 1.5e308, "y": 1e-400}}'),
        Rejection,
    )


def test_wrong_types_and_values_are_all_reported() -> None:
    text = reason(encode({"title": 5, "message": "m", "priority": "urgent", "tags": "deploy"}))
    assert "'title' must be a string, not number 5" in text
    assert "'tags' must be a list, not string 'deploy'" in text
    assert "'priority' must be one of: low, medium, high, critical; got string 'urgent'" in text


def test_a_request_needs_something_to_send() -> None:
    assert reason(encode({"priority": "low"})) == (
        "a request needs at least one of 'title', 'message' or 'template' (with 'context')"
    )


def test_a_title_alone_or_a_message_alone_is_a_request() -> None:
    title_only = parse_request(encode({"kind": "alert", "title": "DB down"}))
    assert isinstance(title_only, Request)
    assert (title_only.title, title_only.message) == ("DB down", None)
    message_only = parse_request(encode({"message": "the nightly backup finished"}))
    assert isinstance(message_only, Request)
    assert (message_only.title, message_only.message) == (None, "the nightly backup finished")


def test_unknown_keys_suggest_the_right_one() -> None:
    assert reason(encode({"title": "t", "message": "m", "severty": "info"})) == (
        "unknown key 'severty' in the request (did you mean 'severity'?)"
    )


def test_nested_problems_name_their_place() -> None:
    text = reason(
        encode(
            {
                "title": "t",
                "message": "m",
                "attachments": [{"filename": "a.txt"}],
                "labels": {"x": [1]},
            }
        )
    )
    assert "'attachments[0]' needs 'content' or 'url'" in text
    assert "'labels.x' must be a string or a number or true or false, not a list" in text


def test_the_producer_id_is_kept_for_the_record() -> None:
    result = parse_request(encode({"id": "job-7", "title": "t", "priority": "urgent"}))
    assert isinstance(result, Rejection)
    assert result.id == "job-7"
    not_an_id = parse_request(encode({"id": "two words\n", "title": "t", "priority": "urgent"}))
    assert isinstance(not_an_id, Rejection)
    assert not_an_id.id is None
    assert "'id': invalid value string 'two words\\n'" in not_an_id.reason


def test_a_huge_request_is_rejected_before_decoding() -> None:
    huge = encode({"title": "t", "message": "x" * MAX_REQUEST_BYTES})
    assert reason(huge).startswith("request is 1.0 MiB, larger than the 1.0 MiB limit")


def test_binary_garbage_is_not_utf8() -> None:
    assert reason(b"\x89PNG\r\n\x1a\n\x00\x00") == "not UTF-8 text: invalid byte 0x89 at offset 0"


def test_text_postgres_cannot_store_is_rejected() -> None:
    assert "NUL" in reason(b'{"title": "a\\u0000b", "message": "m"}')
    assert "surrogate" in reason(b'{"title": "\\ud800", "message": "m"}')
    # A correctly paired surrogate escape is an ordinary character.
    assert isinstance(parse_request(b'{"title": "\\ud83d\\ude80", "message": "m"}'), Request)


def test_deep_nesting_is_rejected_not_a_crash() -> None:
    assert reason(b"[" * 100_000) == "not valid JSON: nested too deeply"


def test_many_problems_are_capped() -> None:
    text = reason(encode({"title": "t", "message": "m", "tags": list(range(100))}))
    assert text.endswith("and 80 more problem(s)")


@pytest.mark.parametrize("raw", [b"{", b"}", b"\xff", b"1e999999", b"9" * 5000, "{\ud800}"])
def test_odd_inputs_are_rejections(raw: bytes | str) -> None:
    assert isinstance(parse_request(raw), Rejection)


@settings(max_examples=300)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    result = parse_request(raw)
    assert isinstance(result, (Request, Rejection))
    if isinstance(result, Rejection):
        assert result.reason and "\n" not in result.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
request_keys = st.sampled_from(
    [
        "id",
        "kind",
        "action",
        "title",
        "message",
        "template",
        "context",
        "priority",
        "severity",
        "channels",
        "recipients",
        "tags",
        "labels",
        "metadata",
        "attachments",
        "dedup_key",
    ]
)


@settings(max_examples=300)
@given(st.dictionaries(request_keys, json_values, max_size=8))
def test_arbitrary_json_objects_never_raise(data: dict[str, Any]) -> None:
    result = parse_request(json.dumps(data).encode())
    assert isinstance(result, (Request, Rejection))
    if isinstance(result, Rejection):
        assert result.reason and "\n" not in result.reason


def test_a_number_with_thousands_of_digits_is_refused_in_words() -> None:
    text = reason(b'{"title": "t", "message": "m", "labels": {"n": ' + b"9" * 5000 + b"}}")
    assert text == "not valid JSON: a number has more than 4300 digits"


def test_a_bug_while_reading_names_no_python_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: Any) -> list[str]:
        raise KeyError("internal")

    monkeypatch.setattr("notifierd.intake.parse.request_problems", broken)
    text = reason(encode({"title": "t", "message": "m"}))
    assert text.startswith("invalid request: it could not be read")
    assert not python_internals(text)


# What a producer cannot act on: a module, a traceback, an exception class, the language.
_INTERNALS = re.compile(
    r"sys\.|Traceback|python|\b[A-Z]\w*(Error|Exception)\b|\w+\(\)", re.IGNORECASE
)


def python_internals(text: str) -> list[str]:
    return [m.group(0) for m in _INTERNALS.finditer(text)]


def _decoded(value: str) -> str:
    """A JSON value as the parser read it, or "" when it does not parse (the hostile ones)."""
    try:
        return str(json.loads(value))
    except (ValueError, RecursionError):
        return ""


def _nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


# Hostile JSON texts: the numbers, constants, escapes and nesting that reach Python's limits.
hostile_values = st.one_of(
    st.integers(min_value=1, max_value=20_000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "-1" + "0" * n),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "0.1e400"]),
    st.sampled_from(['"\\ud800"', '"\\udfff x"', '"\\u0000"', '"\\x"', '"\\u12"', "tru", "nul"]),
    st.integers(min_value=1, max_value=5_000).map(lambda d: _nested(d, "1")),
    st.text(max_size=20).map(json.dumps),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(request_keys, hostile_values), min_size=1, max_size=4))
@example([("kind", json.dumps("¹()"))])  # quoted back decoded: the producer's, not ours
def test_no_rejection_reason_speaks_python(pairs: list[tuple[str, str]]) -> None:
    body = ", ".join(f'"{key}": {value}' for key, value in pairs)
    for raw in (f'{{"title": "t", "message": "m", {body}}}', f"[{body.split(': ', 1)[1]}]"):
        result = parse_request(raw.encode("utf-8", "surrogatepass"))
        if isinstance(result, Rejection):
            # A value the producer sent may be quoted back ("AERROR" is theirs, not ours), as it
            # reads once decoded too: "\u00b9()" is quoted as "¹()".
            theirs = raw.lower() + "".join(_decoded(value).lower() for _, value in pairs)
            ours = [m for m in python_internals(result.reason) if m.lower() not in theirs]
            assert not ours, result.reason


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "disk full"}',
        b'\xef\xbb\xbf {"title": "disk full", "labels": {"id": "x"}}\n',  # a BOM, a nested id
        b'\n\t{ "message" : "caf\\u00e9" }',
    ],
)
def test_a_request_without_an_id_is_stamped_with_the_one_it_was_given(raw: bytes) -> None:
    request = parse_request(raw)
    assert isinstance(request, Request) and not given_id(request)
    stamped = with_id(raw, request.id)
    assert stamped is not None and stamped.endswith(raw[raw.index(b"{") + 1 :])
    again = parse_request(stamped)
    assert isinstance(again, Request) and given_id(again)
    assert again.id == request.id
    assert {**again.raw} == {"id": request.id, **request.raw}


def test_a_request_with_its_own_id_is_not_stamped() -> None:
    request = parse_request(encode({"id": "deploy-1", "title": "t"}))
    assert isinstance(request, Request) and given_id(request)


def test_no_stamp_makes_a_request_larger_than_the_intake_accepts() -> None:
    near = b'{"context": {"log": "%s"}}' % (b"x" * (MAX_REQUEST_BYTES - 40))
    assert len(near) <= MAX_REQUEST_BYTES
    assert with_id(near, "3f1c2a9e-0d4b-4e0a-9a57-6f2b8c1d0e11") is None  # taken as it is
    assert with_id(b'{"title": "t"}', "abc") == b'{"id":"abc","title": "t"}'
