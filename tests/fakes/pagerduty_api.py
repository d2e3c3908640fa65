"""A local PagerDuty Events API v2: POST /v2/enqueue, validated, with incidents by dedup key.

It answers as the Events API does: 202 ``{"status": "success", "message": "Event processed",
"dedup_key": ...}``; 400 ``{"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}`` for a bad event or routing key; a bare 429 (no Retry-After) via
``throttle_next``. Incidents follow the documented de-duplication rules: a trigger joins the
open incident with its dedup key (else opens one), acknowledge and resolve apply to the open
incident sent with the same routing key and are dropped otherwise, still answered 202.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.http import FakeHTTPServer

ENQUEUE = "/v2/enqueue"
DEFAULT_ROUTING_KEY = "R0UT1NGKEY0123456789ABCDEFGHIJKL"  # 32 alphanumerics, like a real one
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
THROTTLED = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly. Please retry later.",
}


@dataclass
class Incident:
    """One PagerDuty alert/incident as the fake keeps it."""

    number: int
    dedup_key: str
    routing_key: str
    status: str  # triggered, acknowledged, resolved
    summary: str
    severity: str
    source: str
    events: list[dict[str, Any]] = field(default_factory=list)  # every event applied, in order

    @property
    def actions(self) -> list[str]:
        return [e["event_action"] for e in self.events]


class InvalidEvent(Exception):
    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


class FakePagerDuty(FakeHTTPServer):
    """``url`` is the full enqueue endpoint, for the channel's ``api_url``."""

    def __init__(
        self, *, routing_keys: Iterable[str] = (DEFAULT_ROUTING_KEY,), host: str = "127.0.0.1"
    ) -> None:
        super().__init__(host)
        self.routing_keys = set(routing_keys)
        self.events: list[dict[str, Any]] = []  # every accepted event, routing key included
        self.incidents: list[Incident] = []  # oldest first
        self.dropped: list[dict[str, Any]] = []  # accepted acknowledge/resolve with no incident
        self._numbers = itertools.count(1)

    @property
    def url(self) -> str:
        return self.origin + ENQUEUE

    def setup(self, app: web.Application) -> None:
        app.router.add_post(ENQUEUE, self._enqueue)

    # -- helpers for tests -------------------------------------------------------

    def throttle_next(self, times: int = 1) -> None:
        """The next ``times`` events get 429 without a Retry-After, as PagerDuty answers."""
        self.fail_next(times, 429, json=THROTTLED, path=ENQUEUE)

    def incident(self, dedup_key: str) -> Incident | None:
        """The newest incident with ``dedup_key``."""
        found = [i for i in self.incidents if i.dedup_key == dedup_key]
        return found[-1] if found else None

    # -- the API -----------------------------------------------------------------

    async def _enqueue(self, request: web.Request) -> web.Response:
        try:
            event = self._parse(await request.read())
            self._validate(event)
        except InvalidEvent as exc:
            body = {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": exc.errors,
            }
            return web.json_response(body, status=400)
        key = event.get("dedup_key") or uuid.uuid4().hex
        event = {**event, "dedup_key": key}
        self.events.append(event)
        self._apply(event)
        body = {"status": "success", "message": "Event processed", "dedup_key": key}
        return web.json_response(body, status=202)

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any]:
        try:
            event = json.loads(raw)
        except ValueError:
            raise InvalidEvent("Event object is not valid JSON") from None
        if not isinstance(event, dict):
            raise InvalidEvent("Event object must be a JSON object")
        return event

    def _validate(self, event: dict[str, Any]) -> None:
        errors = []
        key = event.get("routing_key")
        if not isinstance(key, str) or not key.strip():
            errors.append("'routing_key' is missing or blank")
        else:
            if len(key) != 32:
                errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
            if not key.isalnum():
                errors.append("'routing_key' cannot contain non-alphanumeric characters.")
            if not errors and key not in self.routing_keys:
                errors.append("Invalid routing key")
        action = event.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' is missing or invalid")
        dedup_key = event.get("dedup_key")
        if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action in ("acknowledge", "resolve") and not dedup_key:
            errors.append("'dedup_key' is missing or blank")
        if action == "trigger":
            errors += self._payload_errors(event.get("payload"))
        if errors:
            raise InvalidEvent(*errors)

    @staticmethod
    def _payload_errors(payload: Any) -> list[str]:
        if not isinstance(payload, dict):
            return ["'payload' is missing or not an object"]
        errors = []
        for name in ("summary", "source", "severity"):
            value = payload.get(name)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"'payload.{name}' is missing or blank")
        summary = payload.get("summary")
        if isinstance(summary, str) and len(summary) > 1024:
            errors.append("'payload.summary' is too long (maximum is 1024 characters)")
        severity = payload.get("severity")
        if isinstance(severity, str) and severity and severity not in SEVERITIES:
            errors.append("'payload.severity' must be one of critical, error, warning or info")
        details = payload.get("custom_details")
        if details is not None and not isinstance(details, dict):
            errors.append("'payload.custom_details' must be an object")
        return errors

    def _apply(self, event: dict[str, Any]) -> None:
        key, action = event["dedup_key"], event["event_action"]
        routing_key = event["routing_key"]
        open_incident = next(
            (
                i
                for i in reversed(self.incidents)
                if i.dedup_key == key and i.status != "resolved" and i.routing_key == routing_key
            ),
            None,
        )
        if action == "trigger":
            if open_incident is None:
                payload = event["payload"]
                open_incident = Incident(
                    number=next(self._numbers),
                    dedup_key=key,
                    routing_key=routing_key,
                    status="triggered",
                    summary=payload["summary"],
                    severity=payload["severity"],
                    source=payload["source"],
                )
                self.incidents.append(open_incident)
            open_incident.events.append(event)  # a trigger on an acknowledged one stays acked
            return
        if open_incident is None:
            self.dropped.append(event)
            return
        open_incident.status = "acknowledged" if action == "acknowledge" else "resolved"
        open_incident.events.append(event)
