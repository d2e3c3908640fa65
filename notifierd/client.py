"""A small producer client: validate a request, push it onto the queue, read its status back.

    from notifierd.client import Client
    async with Client() as client:
        request_id = await client.send(title="Deployed", message="v2.1.0 is live", tags=["deploy"])
        print(await client.status(request_id))

``SyncClient`` offers the same calls for code without an event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from notifierd.defaults import DEFAULT_POSTGRES_URL, DEFAULT_QUEUE, DEFAULT_REDIS_URL
from notifierd.redisio.keys import Keys


class InvalidRequest(ValueError):
    """The request does not match ``request.schema.json``; ``problems`` says how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def build_request(fields: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields, add an id, and validate against the request schema."""
    from notifierd.intake.parse import request_problems

    request = {k: v for k, v in fields.items() if v not in (None, [], {}, ())}
    request.setdefault("id", str(uuid.uuid4()))
    problems = request_problems(request)
    if problems:
        raise InvalidRequest(problems)
    return request


class Client:
    def __init__(
        self,
        redis_url: str | None = None,
        postgres_url: str | None = None,
        queue: str | None = None,
        producer: str | None = None,
    ) -> None:
        """``producer``: push onto that producer's own queue, ``<queue>:<producer>`` (its Redis
        ACL user, in ``redis_url``, may push only there); None: the default queue."""
        self.redis_url = redis_url or os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
        self.postgres_url = postgres_url or os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
        self.queue = queue or os.environ.get("NOTIFIERD_QUEUE", DEFAULT_QUEUE)
        if producer is not None:
            self.queue = Keys(queue=self.queue).producer_queue(producer)
        self._redis: Any = None
        self._store: Any = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def send(self, request: dict[str, Any] | None = None, **fields: Any) -> str:
        """Validate and enqueue a request (a dict, or its fields as keywords); returns its id."""
        from notifierd.redisio.connect import connect_redis

        payload = build_request({**(request or {}), **fields})
        if self._redis is None:
            self._redis = await connect_redis(self.redis_url)
        await self._redis.lpush(self.queue, json.dumps(payload))
        return str(payload["id"])

    async def connect_status(self) -> None:
        """Connect to Postgres now (ServiceUnavailable if it cannot be reached), e.g. to know
        before sending that the outcome can be waited for."""
        from notifierd.store.db import Store

        if self._store is None:
            self._store = await Store.connect(self.postgres_url, min_size=1, max_size=2)

    async def status(self, request_id: str) -> dict[str, Any] | None:
        """The request's overall status and its deliveries, or None while it is not recorded yet."""
        await self.connect_status()
        return await self._store.request_status(request_id)

    async def wait(
        self, request_id: str, timeout: float = 30.0, interval: float = 0.2
    ) -> dict[str, Any] | None:
        """Poll until the request is recorded and nothing is in progress (or ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        status = None
        while loop.time() < deadline:
            status = await self.status(request_id)
            if status is not None and status["status"] not in ("queued", "in_progress"):
                return status
            await asyncio.sleep(interval)
        return status


class SyncClient:
    """The :class:`Client` for synchronous code; it runs a private event loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = Client(*args, **kwargs)

    def send(self, request: dict[str, Any] | None = None, **fields: Any) -> str:
        return self._loop.run_until_complete(self._client.send(request, **fields))

    def status(self, request_id: str) -> dict[str, Any] | None:
        return self._loop.run_until_complete(self._client.status(request_id))

    def wait(self, request_id: str, timeout: float = 30.0) -> dict[str, Any] | None:
        return self._loop.run_until_complete(self._client.wait(request_id, timeout))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.close())
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


DEFAULT_API_URL = "http://127.0.0.1:9464"


class ApiError(Exception):
    """The HTTP API refused or could not be reached; ``status`` is None when unreachable."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class ApiClient:
    """The daemon's HTTP API (``/api/v1``, described by ``/api/v1/openapi.json``), as the
    principal its token names; one method per operation, each answering the JSON document the
    API answers. A refusal or an unreachable API raises ApiError.

    async with ApiClient(token=os.environ["NOTIFIERD_TOKEN"]) as api:
        alert = await api.acknowledge("db-down", note="looking")
    """

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self.url = (url or os.environ.get("NOTIFIERD_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.token = token if token is not None else os.environ.get("NOTIFIERD_TOKEN")
        self.timeout = timeout

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    # -- intake ----------------------------------------------------------------------------------

    async def notify(self, request: dict[str, Any] | None = None, **fields: Any) -> str:
        """Queue a request (a dict, or its fields as keywords) over HTTP; returns its id."""
        answer = await self._call("POST", "/api/v1/notify", body={**(request or {}), **fields})
        return str(answer["id"])

    async def alertmanager(
        self, payload: dict[str, Any], *, per_alert: bool = False
    ) -> dict[str, Any]:
        """Hand over an Alertmanager webhook payload: ``requests`` (ids) and ``queued``."""
        query = {"per_alert": "true"} if per_alert else None
        return await self._call("POST", "/api/v1/alertmanager", query=query, body=payload)

    async def grafana(self, payload: dict[str, Any], *, per_alert: bool = False) -> dict[str, Any]:
        """Hand over a Grafana alerting webhook payload, as :meth:`alertmanager`."""
        query = {"per_alert": "true"} if per_alert else None
        return await self._call("POST", "/api/v1/grafana", query=query, body=payload)

    async def beat(self, heartbeat: str) -> dict[str, Any]:
        """A beat of ``heartbeat`` by this client's producer."""
        return await self._call("POST", f"/api/v1/heartbeats/{_segment(heartbeat)}")

    # -- requests and deliveries -----------------------------------------------------------------

    async def request(self, request_id: str) -> dict[str, Any]:
        """A request's status and its deliveries (ApiError 404 while not recorded)."""
        return await self._call("GET", f"/api/v1/requests/{_segment(request_id)}")

    async def deliveries(
        self,
        *,
        request_id: str | None = None,
        title: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of deliveries newest first: ``deliveries`` and ``next_cursor`` (pass it
        back as ``cursor`` with the same filters; None on the last page)."""
        query = {
            "request_id": request_id,
            "title": title,
            "channel": channel,
            "recipient": recipient,
            "status": status,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "limit": str(limit) if limit is not None else None,
            "cursor": cursor,
        }
        return await self._call("GET", "/api/v1/deliveries", query=query)

    # -- alerts ----------------------------------------------------------------------------------

    async def alerts(self, state: str | None = None, limit: int | None = None) -> list[Any]:
        """Alerts newest first, optionally in one ``state`` (triggered, acknowledged, resolved)."""
        query = {"state": state, "limit": str(limit) if limit is not None else None}
        return list((await self._call("GET", "/api/v1/alerts", query=query))["alerts"])

    async def alert(
        self, alert: str, *, timeline_limit: int | None = None, timeline_before: str | None = None
    ) -> dict[str, Any]:
        """One alert (id or dedup key) with its escalation steps and its timeline: every
        event, or with ``timeline_limit`` the newest that many (older than ``timeline_before``,
        a page's ``timeline_older``)."""
        query = {
            "timeline_limit": str(timeline_limit) if timeline_limit is not None else None,
            "timeline_before": timeline_before,
        }
        return await self._call("GET", f"/api/v1/alerts/{_segment(alert)}", query=query)

    async def acknowledge(self, alert: str, note: str | None = None) -> dict[str, Any]:
        """Acknowledge ``alert`` (id or dedup key); the alert as the daemon now has it."""
        return await self._alert(alert, "ack", note)

    async def resolve(self, alert: str, note: str | None = None) -> dict[str, Any]:
        """Resolve ``alert`` (id or dedup key); the alert as the daemon now has it."""
        return await self._alert(alert, "resolve", note)

    async def escalate(self, alert: str, note: str | None = None) -> dict[str, Any]:
        """Fire the next level of ``alert`` now; the alert, with ``escalation`` saying which
        level (and ``joined`` when it was on its way already). ApiError 409 when the alert is
        acknowledged, resolved, or past its last level with no repeat left."""
        return await self._alert(alert, "escalate", note)

    async def _alert(self, alert: str, operation: str, note: str | None) -> dict[str, Any]:
        path = f"/api/v1/alerts/{_segment(alert)}/{operation}"
        return await self._call("POST", path, body={"note": note} if note else None)

    # -- dead letters ----------------------------------------------------------------------------

    async def dead_letters(self, channel: str | None = None, limit: int | None = None) -> list[Any]:
        """Dead deliveries and dead requests, newest first."""
        query = {"channel": channel, "limit": str(limit) if limit is not None else None}
        return list((await self._call("GET", "/api/v1/dead-letters", query=query))["dead_letters"])

    async def retry_dead_letters(
        self, ids: Sequence[str] = (), *, all_: bool = False
    ) -> dict[str, Any]:
        """Requeue dead deliveries and dead requests (by delivery or request id, or all):
        ``deliveries`` and ``requests`` requeued."""
        body: dict[str, Any] = {"ids": list(ids)}
        if all_:
            body["all"] = True
        return await self._call("POST", "/api/v1/dead-letters/retry", body=body)

    # -- audit -----------------------------------------------------------------------------------

    async def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of the audit log, newest first: ``entries`` and ``next_cursor``."""
        query = {
            "actor": actor,
            "action": action,
            "target": target,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "limit": str(limit) if limit is not None else None,
            "cursor": cursor,
        }
        return await self._call("GET", "/api/v1/audit", query=query)

    # -- config ----------------------------------------------------------------------------------

    async def config(self) -> dict[str, Any]:
        """The active config: snapshot, loaded_at, last_reload, channels_missing_secrets."""
        return await self._call("GET", "/api/v1/config")

    async def rate_limits(self) -> list[Any]:
        """Each rate limit's use now."""
        return list((await self._call("GET", "/api/v1/rate-limits"))["rate_limits"])

    async def render_template(
        self,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        channel: str | None = None,
        example: int | None = None,
    ) -> dict[str, Any]:
        """What each channel would receive from ``template`` (``name`` or ``name@version``)."""
        body = {"context": context, "channel": channel, "example": example}
        path = f"/api/v1/templates/{_segment(template)}/render"
        return await self._call("POST", path, body={k: v for k, v in body.items() if v is not None})

    async def openapi(self) -> dict[str, Any]:
        """The API's OpenAPI document."""
        return await self._call("GET", "/api/v1/openapi.json")

    # -- on call ---------------------------------------------------------------------------------

    async def oncall(
        self,
        *,
        at: datetime | None = None,
        schedule: str | None = None,
        ahead: str | None = None,
        person: str | None = None,
    ) -> dict[str, Any]:
        """Who is on call (``on_call``), or the shifts ``ahead`` (e.g. ``7d``) or of ``person``."""
        query = {
            "at": at.isoformat() if at else None,
            "schedule": schedule,
            "next": ahead,
            "person": person,
        }
        return await self._call("GET", "/api/v1/oncall", query=query)

    async def schedule_feed(self, schedule: str, feed_token: str) -> str:
        """A schedule's iCalendar feed, read with a feed token (not the bearer token)."""
        path = f"/api/v1/oncall/schedules/{_segment(schedule)}.ics"
        return await self._text(path, feed_token)

    async def person_feed(self, person: str, feed_token: str) -> str:
        """A person's iCalendar feed, read with a feed token (not the bearer token)."""
        return await self._text(f"/api/v1/oncall/people/{_segment(person)}.ics", feed_token)

    # -- run-time silences and overrides ---------------------------------------------------------

    async def silences(self, *, recent: bool = False, limit: int | None = None) -> list[Any]:
        """The run-time silences not ended (``recent``: those ended in the last week too)."""
        query = {
            "state": "recent" if recent else None,
            "limit": str(limit) if limit is not None else None,
        }
        return list((await self._call("GET", "/api/v1/silences", query=query))["silences"])

    async def silence(
        self,
        matchers: Sequence[str],
        reason: str,
        *,
        until: datetime | None = None,
        duration: str | None = None,
    ) -> dict[str, Any]:
        """Add a run-time silence (needs operate) ending at ``until`` or after ``duration``
        (e.g. ``2h``), at most the config's settings.runtime.max_silence; the silence."""
        body = {
            "matchers": list(matchers),
            "reason": reason,
            "until": until.isoformat() if until else None,
            "duration": duration,
        }
        return await self._call(
            "POST", "/api/v1/silences", body={k: v for k, v in body.items() if v is not None}
        )

    async def expire_silence(self, silence_id: int) -> dict[str, Any]:
        """End a run-time silence now (needs operate); the silence."""
        return await self._call("POST", f"/api/v1/silences/{int(silence_id)}/expire")

    async def overrides(
        self, *, schedule: str | None = None, recent: bool = False, limit: int | None = None
    ) -> list[Any]:
        """The run-time schedule overrides not ended (``recent``: those of the last week too)."""
        query = {
            "schedule": schedule,
            "state": "recent" if recent else None,
            "limit": str(limit) if limit is not None else None,
        }
        return list((await self._call("GET", "/api/v1/overrides", query=query))["overrides"])

    async def override(
        self,
        schedule: str,
        person: str,
        reason: str,
        *,
        start: datetime | None = None,
        until: datetime | None = None,
        duration: str | None = None,
    ) -> dict[str, Any]:
        """Put ``person`` on call for ``schedule`` from ``start`` (default now) until ``until``
        or for ``duration`` (needs operate); the override."""
        body = {
            "schedule": schedule,
            "person": person,
            "reason": reason,
            "from": start.isoformat() if start else None,
            "until": until.isoformat() if until else None,
            "duration": duration,
        }
        return await self._call(
            "POST", "/api/v1/overrides", body={k: v for k, v in body.items() if v is not None}
        )

    async def remove_override(self, override_id: int) -> dict[str, Any]:
        """End a run-time override now (needs operate); the override."""
        return await self._call("POST", f"/api/v1/overrides/{int(override_id)}/remove")

    # -- transport -------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | None] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The JSON object the API answers with 2xx; ApiError otherwise."""
        import aiohttp

        params = {k: v for k, v in (query or {}).items() if v is not None}
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.request(
                    method, self.url + path, params=params, json=body, headers=headers
                ) as resp,
            ):
                answer = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            raise ApiError(None, f"cannot reach the API at {self.url}: {reason}") from None
        if not 200 <= status < 300 or not isinstance(answer, dict):
            detail = (
                (answer.get("reason") or answer.get("error")) if isinstance(answer, dict) else None
            )
            raise ApiError(status, str(detail or f"HTTP {status}"))
        return answer

    async def _text(self, path: str, feed_token: str) -> str:
        import aiohttp

        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as http,
                http.get(self.url + path, params={"token": feed_token}) as resp,
            ):
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            raise ApiError(None, f"cannot reach the API at {self.url}: {reason}") from None
        if status != 200:
            raise ApiError(status, f"HTTP {status}")
        return text


def _segment(value: str) -> str:
    """``value`` as one path segment: ids may hold slashes and other reserved characters."""
    from urllib.parse import quote

    return quote(value, safe="")
