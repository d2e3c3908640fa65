"""The run-time silences and overrides API (``notifierd/runtime/``): the one exception to "the
repository decides". Listing needs view; adding and ending need operate (``auth.ROUTE_ROLES``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from notifierd.http.app import (
    BACKEND,
    BadQuery,
    answer,
    decode_json,
    error,
    log,
    name_query,
    origin,
    page_limit,
    principal,
    store_read,
    via,
)
from notifierd.runtime.changes import Actor, AlreadyEnded, NotFound, NotGranted
from notifierd.runtime.views import override_json, silence_json
from notifierd.schedules import listing

T = TypeVar("T")


def add_runtime_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", add_silence)
    app.router.add_post("/api/v1/silences/{id}/expire", expire_silence)
    app.router.add_get("/api/v1/overrides", list_overrides)
    app.router.add_post("/api/v1/overrides", add_override)
    app.router.add_post("/api/v1/overrides/{id}/remove", remove_override)


# A listing shows the ones not ended, or (state=recent) those ended within the last week too.
_RUNTIME_STATES = ("active", "recent")


def _actor(request: web.Request) -> Actor:
    return Actor(principal(request).id, via(request), origin(request))


def _runtime_state(request: web.Request) -> bool:
    """True for ``state=recent``; ``active`` (the default) lists those in force."""
    state = request.query.get("state", "active")
    if state not in _RUNTIME_STATES:
        raise BadQuery(f"state: one of {', '.join(_RUNTIME_STATES)}")
    return state == "recent"


def _row_id(request: web.Request) -> int | None:
    text = request.match_info["id"]
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _body_moment(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None:
        return None
    moment = listing.parse_moment(value) if isinstance(value, str) else "not a string"
    if isinstance(moment, str):
        raise NotGranted(f"{name}: {moment}")
    return moment


def _body_text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise NotGranted(f"{name}: a string")
    return value


async def _runtime_body(request: web.Request) -> dict[str, Any]:
    data, problem = decode_json(await request.read())
    if problem is not None:
        raise NotGranted(problem)
    if not isinstance(data, dict):
        raise NotGranted("the body must be a JSON object")
    return data


async def _runtime_change(request: web.Request, change: Awaitable[T]) -> T | web.Response:
    """``change``'s answer, or the refusal it raised as 400, 404 or 409 (503: Postgres)."""
    try:
        return await change
    except NotGranted as exc:
        return error(400, str(exc))
    except NotFound as exc:
        return error(404, str(exc))
    except AlreadyEnded as exc:
        return error(409, str(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("HTTP run-time change failed: %s", exc)
        return error(503, "the store (Postgres) is unavailable; try again")


async def list_silences(request: web.Request) -> web.Response:
    """Run-time silences newest first: those not ended, or (``state=recent``) those ended in
    the last week too."""
    try:
        recent = _runtime_state(request)
        limit = page_limit(request)
    except BadQuery as exc:
        return error(400, str(exc))
    runtime = request.app[BACKEND].runtime()
    now = runtime.clock()
    found = await store_read(
        runtime.store.recent_silences(now, limit)
        if recent
        else runtime.store.active_silences(now, limit)
    )
    if isinstance(found, web.Response):
        return found
    return answer({"silences": [silence_json(row, now) for row in found]})


async def add_silence(request: web.Request) -> web.Response:
    """A run-time silence: ``{"matchers": [...], "until" or "duration", "reason"}`` → 201."""
    backend = request.app[BACKEND]
    runtime = backend.runtime()

    async def add() -> Any:
        data = await _runtime_body(request)
        matchers = data.get("matchers")
        if not isinstance(matchers, list) or not all(isinstance(m, str) for m in matchers):
            raise NotGranted('matchers: a list of matcher strings, e.g. ["service=\\"db\\""]')
        return await runtime.add_silence(
            backend.config(),
            _actor(request),
            matchers,
            _body_text(data, "reason"),
            until=_body_moment(data, "until"),
            duration=_body_text(data, "duration"),
        )

    row = await _runtime_change(request, add())
    if isinstance(row, web.Response):
        return row
    log.info(
        "run-time silence %d added over HTTP by %s: %s until %s",
        row.id,
        principal(request).id,
        ", ".join(row.matchers),
        row.ends_at.isoformat(),
        extra={"event": "silence_added"},
    )
    return answer(silence_json(row, runtime.clock()), 201)


async def expire_silence(request: web.Request) -> web.Response:
    """End a run-time silence now."""
    silence_id = _row_id(request)
    if silence_id is None:
        return error(404, "no such silence", id=request.match_info["id"])
    runtime = request.app[BACKEND].runtime()
    row = await _runtime_change(request, runtime.expire_silence(silence_id, _actor(request)))
    if isinstance(row, web.Response):
        return row
    return answer(silence_json(row, runtime.clock()))


async def list_overrides(request: web.Request) -> web.Response:
    """Run-time schedule overrides newest first: ``schedule``, ``state``."""
    try:
        recent = _runtime_state(request)
        limit = page_limit(request)
        schedule = name_query(request, "schedule")
    except BadQuery as exc:
        return error(400, str(exc))
    runtime = request.app[BACKEND].runtime()
    now = runtime.clock()
    found = await store_read(
        runtime.store.recent_overrides(now, schedule, limit)
        if recent
        else runtime.store.active_overrides(now, schedule, limit)
    )
    if isinstance(found, web.Response):
        return found
    return answer({"overrides": [override_json(row, now) for row in found]})


async def add_override(request: web.Request) -> web.Response:
    """A run-time override: ``{"schedule", "person", "from"?, "until" or "duration",
    "reason"}`` → 201."""
    backend = request.app[BACKEND]
    runtime = backend.runtime()

    async def add() -> Any:
        data = await _runtime_body(request)
        schedule, person = _body_text(data, "schedule"), _body_text(data, "person")
        if not schedule or not person:
            raise NotGranted("name the schedule and the person who covers it")
        return await runtime.add_override(
            backend.config(),
            _actor(request),
            schedule,
            person,
            _body_text(data, "reason"),
            starts_at=_body_moment(data, "from"),
            until=_body_moment(data, "until"),
            duration=_body_text(data, "duration"),
        )

    row = await _runtime_change(request, add())
    if isinstance(row, web.Response):
        return row
    log.info(
        "run-time override %d added over HTTP by %s: %s covers %s until %s",
        row.id,
        principal(request).id,
        row.person,
        row.schedule,
        row.ends_at.isoformat(),
        extra={"event": "override_added"},
    )
    return answer(override_json(row, runtime.clock()), 201)


async def remove_override(request: web.Request) -> web.Response:
    """End a run-time override now."""
    override_id = _row_id(request)
    if override_id is None:
        return error(404, "no such override", id=request.match_info["id"])
    runtime = request.app[BACKEND].runtime()
    row = await _runtime_change(request, runtime.remove_override(override_id, _actor(request)))
    if isinstance(row, web.Response):
        return row
    return answer(override_json(row, runtime.clock()))
