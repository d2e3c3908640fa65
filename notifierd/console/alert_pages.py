"""The console's alert and on-call pages: the alerts (open ones first), one alert's timeline,
and who is on call now and next — on the backend functions and parsers of their API routes."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from notifierd.console import timeline
from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import BACKEND, MAX_PAGE, BadQuery, alert_listing, id_problem
from notifierd.schedules import listing
from notifierd.status import AlertStatus


async def alerts(request: web.Request) -> web.Response:
    """Open alerts first (triggered, then acknowledged), newest first in each; then the
    resolved ones — the order of ``GET /api/v1/alerts``. ``state`` keeps one state."""
    try:
        state, limit = alert_listing(filled_in(request))
    except BadQuery as exc:
        return problem(request, 400, str(exc), "/ui/alerts")
    try:
        rows = await read(request.app[BACKEND].list_alerts(state, limit))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/alerts")
    more = len(rows) == limit and limit < MAX_PAGE
    return page(
        request,
        "alerts.html",
        {
            "alerts": rows,
            "state": state,
            "states": list(AlertStatus),
            "more_url": (
                request.rel_url.update_query(limit=min(limit * 2, MAX_PAGE)) if more else None
            ),
        },
        current="/ui/alerts",
    )


async def alert(request: web.Request) -> web.Response:
    """One alert's timeline: its trigger, each level and who it paged by which contact, each
    delivery's status, who acknowledged or resolved it and how (``notifierd alerts show``)."""
    key = request.match_info["id"]
    if (why := id_problem(key)) is not None:
        return problem(request, 400, f"Not an alert id: {why}.", "/ui/alerts")
    backend = request.app[BACKEND]
    try:
        found = await read(backend.show_alert(key))
        # The opening request's own deliveries: what the trigger sent before any level.
        opening = await read(backend.request_status(found["id"])) if found else None
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/alerts")
    if found is None:
        return problem(request, 404, f"No alert has the id or dedup key {key!r}.", "/ui/alerts")
    return page(
        request,
        "alert.html",
        {"alert": found, "entries": timeline.entries(found), "opening": opening},
        current="/ui/alerts",
    )


async def oncall(request: web.Request) -> web.Response:
    """Who is on call now and next in each schedule: the shifts ``GET /api/v1/oncall`` serves,
    built by the same ``schedules/listing.py``."""
    snapshot = request.app[BACKEND].config()
    now = datetime.now(UTC)
    rows = [
        (listing.shift_json(current), listing.shift_json(following))
        for current, following in listing.now_and_next(listing.every_schedule(snapshot), now)
    ]
    return page(request, "oncall.html", {"rows": rows, "at": now}, current="/ui/oncall")
