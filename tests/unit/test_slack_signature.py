"""Slack request signatures (Slack's documented example) and block_actions parsing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from notifierd.http.slack import InvalidPayload, parse_actions, signature, verify

# The worked example in Slack's "Verifying requests from Slack" documentation.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SENT = int(DOC_TIMESTAMP)


def test_signature_matches_slacks_documented_example() -> None:
    assert signature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == DOC_SIGNATURE


def test_verify_accepts_the_example_while_fresh() -> None:
    assert verify(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, now=SENT + 30) is None
    assert verify(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, now=SENT + 300) is None


@pytest.mark.parametrize(
    "secret,timestamp,body,given,now,reason",
    [
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, SENT + 301, "5 minutes"),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, SENT - 301, "5 minutes"),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY + b"&x=1", DOC_SIGNATURE, SENT, "does not match"),
        ("another-secret", DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE, SENT, "does not match"),
        (DOC_SECRET, str(SENT + 1), DOC_BODY, DOC_SIGNATURE, SENT, "does not match"),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, DOC_SIGNATURE.upper(), SENT, "does not match"),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, "v0=ü", SENT, "does not match"),
        (DOC_SECRET, DOC_TIMESTAMP, DOC_BODY, None, SENT, "missing"),
        (DOC_SECRET, None, DOC_BODY, DOC_SIGNATURE, SENT, "missing"),
        (DOC_SECRET, "yesterday", DOC_BODY, DOC_SIGNATURE, SENT, "not a Unix time"),
    ],
)
def test_verify_refuses(
    secret: str, timestamp: str | None, body: bytes, given: str | None, now: float, reason: str
) -> None:
    refused = verify(secret, timestamp, body, given, now=now)
    assert refused is not None and reason in refused


def form(payload: object) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_parse_block_actions() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U1", "username": "bob", "name": "bob"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "response_url": "https://hooks.slack.com/actions/x",
        "actions": [
            {"action_id": "notifierd_ack", "value": "alert-1"},
            {"action_id": "other_app_button", "value": "x"},
            {"action_id": "notifierd_resolve", "value": "req-9"},
        ],
    }
    [ack, resolve] = parse_actions(form(payload))
    slack = {"channel": "C1", "ts": "1.2", "response_url": "https://hooks.slack.com/actions/x"}
    assert (ack.operation, ack.target, ack.by) == ("acknowledge", "alert-1", "bob")
    assert ack.slack == {**slack, "user": "U1"}
    assert (resolve.operation, resolve.target) == ("resolve", "req-9")


def test_the_user_id_names_someone_without_a_username() -> None:
    payload = {"type": "block_actions", "user": {"id": "U7"}, "actions": []}
    payload["actions"] = [{"action_id": "notifierd_ack", "value": "a"}]
    [action] = parse_actions(form(payload))
    assert action.by == "U7"


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "view_submission"},
        {"type": "block_actions", "actions": [{"action_id": "notifierd_ack"}]},  # no value
        {"type": "block_actions", "actions": "nonsense"},
        {"type": "block_actions"},
    ],
)
def test_nothing_to_do(payload: object) -> None:
    assert parse_actions(form(payload)) == []


@pytest.mark.parametrize(
    "body", [b"", b"payload=%7Bnot+json", b"token=x", b"payload=1", b"\xff\xfe", form([1])]
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        parse_actions(body)
