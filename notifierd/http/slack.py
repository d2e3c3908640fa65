"""Slack interactivity: request signature verification and block_actions payload parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

VERSION = "v0"
MAX_AGE_SECONDS = 5 * 60  # Slack's advice: older requests may be replays
# A request is fresh from MAX_AGE before its timestamp to MAX_AGE after: whenever it was first
# taken, its mark must outlive the rest of that window to refuse every replay inside it.
REPLAY_MARK_SECONDS = 2 * MAX_AGE_SECONDS
ACTIONS = {
    "notifierd_ack": "acknowledge",
    "notifierd_resolve": "resolve",
    "notifierd_escalate": "escalate",
}


class InvalidPayload(ValueError):
    """The body is not a form with a JSON ``payload`` field."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed by the signing secret."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str | None, body: bytes, given: str | None, now: float
) -> str | None:
    """None when the request is Slack's and fresh; otherwise why it is refused."""
    if not timestamp or not given:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        sent = int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a Unix time"
    # Both directions: a timestamp far in the future would stay "fresh" for as long as it likes.
    if abs(now - sent) > MAX_AGE_SECONDS:
        return "request timestamp is more than 5 minutes away from now (replay?)"
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass")):
        return "signature does not match"
    return None


@dataclass(frozen=True)
class Action:
    """One notifierd button press: what to do, to which alert (or request), by whom."""

    operation: str  # "acknowledge", "resolve" or "escalate"
    target: str  # the button's value: an alert id, or a request id
    by: str  # the Slack user's name, as shown: a note, not who acts
    slack: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> str | None:
        """The Slack user id of who pressed: the actor is found from it."""
        user = self.slack.get("user")
        return str(user) if user else None


def parse_actions(body: bytes) -> list[Action]:
    """The notifierd actions in an interactivity request; others (and other payloads) are []."""
    payload = _payload(body)
    if payload.get("type") != "block_actions":
        return []
    user, container = _object(payload, "user"), _object(payload, "container")
    channel, message = _object(payload, "channel"), _object(payload, "message")
    slack = {
        "channel": channel.get("id") or container.get("channel_id"),
        "ts": container.get("message_ts") or message.get("ts"),
        "response_url": payload.get("response_url"),
        "user": user.get("id"),
    }
    by = str(user.get("username") or user.get("name") or user.get("id") or "slack")
    found = []
    actions = payload.get("actions")
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict):
            continue
        operation = ACTIONS.get(str(action.get("action_id")))
        value = action.get("value")
        if operation and isinstance(value, str) and value:
            found.append(Action(operation, value, by, dict(slack)))
    return found


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested object of the payload; {} when Slack left it out (shapes vary by surface)."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _payload(body: bytes) -> dict[str, Any]:
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False)
        [text] = form["payload"]
        payload = json.loads(text)
    except (UnicodeDecodeError, KeyError, ValueError, RecursionError) as exc:
        raise InvalidPayload("expected a form-encoded body with one JSON 'payload' field") from exc
    if not isinstance(payload, dict):
        raise InvalidPayload("the 'payload' field must be a JSON object")
    return payload
