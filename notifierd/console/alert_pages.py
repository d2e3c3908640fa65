"""The console's alert and on-call pages: the alerts (open ones first), one alert's timeline,
and who is on call now and next — on the backend functions and parsers of their API routes."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from notifierd.console import timeline
from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import (
    BACKEND,
    MAX_PAGE,
    BadQuery,
    alert_listing,
    id_problem,
    timeline_page,
)
from notifierd.schedules import listing
from notifierd.status import AlertStatus

# Timeline events an alert's page shows at a time, newest; older ones a link away (a flapping
# alert has thousands: rendering 2,030 took 83 ms of CPU, bench/README.md).
TIMELINE_SHOWN = 200


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
    try:
        shown = timeline_page(filled_in(request), default_limit=TIMELINE_SHOWN)
    except BadQuery as exc:
        return problem(request, 400, str(exc), f"/ui/alerts/{quote(key, safe='')}")
    assert shown is not None  # a default limit: always a page
    backend = request.app[BACKEND]
    try:
        found = await read(backend.show_alert(key, shown))
        # The opening request's own deliveries: what the trigger sent before any level.
        opening = await read(backend.request_status(found["id"])) if found else None
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/alerts")
    if found is None:
        return problem(request, 404, f"No alert has the id or dedup key {key!r}.", "/ui/alerts")
    older = found["timeline_older"]
    events = found["timeline"]
    # The steps shown are those between this page's oldest event and the newer page's: each
    # step on exactly one page (every step when the page holds the whole timeline).
    since = timeline.moment(events[0]["at"]) if older and events else None
    until = shown.before.at if shown.before else None
    return page(
        request,
        "alert.html",
        {
            "alert": found,
            "entries": timeline.entries(found, since=since, until=until),
            "opening": opening,
            "older_url": request.rel_url.with_query(timeline_before=older) if older else None,
            "newest_url": request.rel_url.with_query(None) if shown.before else None,
            "shown_limit": shown.limit,
        },
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
