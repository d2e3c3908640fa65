"""The console's routes: each page reads through the same backend functions and query parsers
as its JSON endpoint (``http/app.py``), so the page and the API never disagree."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from notifierd.console import timeline
from notifierd.console.render import page
from notifierd.http import app as api
from notifierd.schedules import listing
from notifierd.status import AlertStatus, DeliveryStatus

STATIC = Path(__file__).resolve().parent / "static"
# The delivery search's fields, in the form's order (the API's query parameters).
DELIVERY_FILTERS = ("request_id", "title", "channel", "recipient", "status", "since", "until")
T = TypeVar("T")
log = logging.getLogger("notifierd.console")


class Unavailable(Exception):
    """Postgres or Redis did not answer a page's read."""


def add_console(app: web.Application) -> None:
    """Register ``/ui/`` and its pages on ``app``."""
    app.router.add_get("/ui", _home)
    app.router.add_get("/ui/", _home)
    app.router.add_get("/ui/alerts", alerts)
    app.router.add_get("/ui/alerts/{id}", alert)
    app.router.add_get("/ui/oncall", oncall)
    app.router.add_get("/ui/deliveries", deliveries)
    app.router.add_get("/ui/requests/{id}", request_page)
    app.router.add_static("/ui/static/", STATIC, append_version=True)


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/alerts")


def problem(request: web.Request, status: int, message: str, current: str) -> web.Response:
    """A page that says what went wrong, with its status (400 bad input, 404, 503)."""
    return page(
        request,
        "problem.html",
        {"status": status, "message": message},
        status=status,
        current=current,
    )


async def _read(read: Awaitable[T]) -> T:
    """``read``'s answer; Unavailable when the store does not answer (the page says so)."""
    try:
        return await read
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("console: reading failed: %s", exc)
        raise Unavailable from exc


UNAVAILABLE = "The store (Postgres or Redis) did not answer; try again."


async def alerts(request: web.Request) -> web.Response:
    """Open alerts first (triggered, then acknowledged), newest first in each; then the
    resolved ones — the order of ``GET /api/v1/alerts``. ``state`` keeps one state."""
    try:
        state, limit = api.alert_listing(_filled(request))
    except api.BadQuery as exc:
        return problem(request, 400, str(exc), "/ui/alerts")
    try:
        rows = await _read(request.app[api.BACKEND].list_alerts(state, limit))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/alerts")
    more = len(rows) == limit and limit < api.MAX_PAGE
    return page(
        request,
        "alerts.html",
        {
            "alerts": rows,
            "state": state,
            "states": list(AlertStatus),
            "more_url": _with(request, limit=min(limit * 2, api.MAX_PAGE)) if more else None,
        },
        current="/ui/alerts",
    )


async def alert(request: web.Request) -> web.Response:
    """One alert's timeline: its trigger, each level and who it paged by which contact, each
    delivery's status, who acknowledged or resolved it and how (``notifierd alerts show``)."""
    key = request.match_info["id"]
    if (why := api.id_problem(key)) is not None:
        return problem(request, 400, f"Not an alert id: {why}.", "/ui/alerts")
    backend = request.app[api.BACKEND]
    try:
        found = await _read(backend.show_alert(key))
        # The opening request's own deliveries: what the trigger sent before any level.
        opening = await _read(backend.request_status(found["id"])) if found else None
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/alerts")
    if found is None:
        return problem(request, 404, f"No alert has the id or dedup key {key!r}.", "/ui/alerts")
    return page(
        request,
        "alert.html",
        {
            "alert": found,
            "entries": timeline.entries(found),
            "opening": opening,
        },
        current="/ui/alerts",
    )


async def oncall(request: web.Request) -> web.Response:
    """Who is on call now and next in each schedule: the shifts ``GET /api/v1/oncall`` serves,
    built by the same ``schedules/listing.py``."""
    snapshot = request.app[api.BACKEND].config()
    now = datetime.now(UTC)
    rows = [
        (listing.shift_json(current), listing.shift_json(following))
        for current, following in listing.now_and_next(listing.every_schedule(snapshot), now)
    ]
    return page(request, "oncall.html", {"rows": rows, "at": now}, current="/ui/oncall")


async def deliveries(request: web.Request) -> web.Response:
    """The delivery search of ``GET /api/v1/deliveries`` as a form (GET, so a search is a link),
    its results and a link to the next page (the API's keyset cursor)."""
    filled = _filled(request)
    form = {name: filled.query.get(name, "") for name in DELIVERY_FILTERS}
    context: dict[str, Any] = {
        "form": form,
        "statuses": list(DeliveryStatus),
        "rows": [],
        "next_url": None,
        "error": None,
    }
    try:
        search = api.delivery_search(filled)
    except api.BadQuery as exc:
        context["error"] = str(exc)
        return page(request, "deliveries.html", context, status=400, current="/ui/deliveries")
    try:
        found = await _read(request.app[api.BACKEND].search_deliveries(search))
    except Unavailable:
        context["error"] = UNAVAILABLE
        return page(request, "deliveries.html", context, status=503, current="/ui/deliveries")
    rows, cursor = api.delivery_page(search, found)
    context["rows"] = rows
    context["next_url"] = _with(filled, cursor=cursor) if cursor else None
    return page(request, "deliveries.html", context, current="/ui/deliveries")


async def request_page(request: web.Request) -> web.Response:
    """One request: what it was, the config snapshot that routed it, each delivery with its
    attempts, history and rendered payload (``GET /api/v1/requests/{id}``)."""
    rid = request.match_info["id"]
    if (why := api.id_problem(rid)) is not None:
        return problem(request, 400, f"Not a request id: {why}.", "/ui/deliveries")
    backend = request.app[api.BACKEND]
    try:
        found = await _read(backend.request_status(rid))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/deliveries")
    if found is None:
        return problem(
            request, 404, f"No request {rid!r} is recorded (not yet, or unknown).", "/ui/deliveries"
        )
    active = backend.snapshot()
    return page(
        request,
        "request.html",
        {
            "req": found,
            # Requests record the snapshot's name (its hash and short git commit); the full
            # commit is known while that snapshot is still the active one.
            "active_snapshot": active if found["snapshot"] == str(active) else None,
            "pretty": _pretty,
        },
        current="/ui/deliveries",
    )


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _filled(request: web.Request) -> web.Request:
    """``request`` without its empty query parameters: a GET form sends every field, and an
    empty one means "any", not "equal to nothing"."""
    kept = {k: v for k, v in request.query.items() if v.strip()}
    if len(kept) == len(request.query):
        return request
    return request.clone(rel_url=request.rel_url.with_query(kept))


def _with(request: web.Request, **changes: Any) -> str:
    """This page's URL with ``changes`` to its query."""
    return str(request.rel_url.update_query({k: str(v) for k, v in changes.items()}))
