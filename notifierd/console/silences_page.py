"""The console's silences page: run-time silences and schedule overrides (the one exception to
"the repository decides"), listed with who added them and why; adding and ending them are the
API's (``/api/v1/silences``, ``/api/v1/overrides``), called by the page's script."""

from __future__ import annotations

from aiohttp import web

from notifierd.config.values import format_duration
from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import BACKEND

SHOWN = 200


async def silences(request: web.Request) -> web.Response:
    """Those in force, or with ``?state=recent`` also those ended in the last week."""
    request = filled_in(request)
    recent = request.query.get("state") == "recent"
    backend = request.app[BACKEND]
    runtime = backend.runtime()
    now = runtime.clock()
    store = runtime.store
    try:
        if recent:
            found_silences = await read(store.recent_silences(now, SHOWN))
            found_overrides = await read(store.recent_overrides(now, None, SHOWN))
        else:
            found_silences = await read(store.active_silences(now, SHOWN))
            found_overrides = await read(store.active_overrides(now, None, SHOWN))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/silences")
    snapshot = backend.config()
    settings = snapshot.settings
    return page(
        request,
        "silences.html",
        {
            "recent": recent,
            "silences": found_silences,
            "overrides": found_overrides,
            "clock": now,
            "schedules": sorted(snapshot.schedules.items()),
            "people": sorted(snapshot.people),
            "max_silence": format_duration(settings.max_silence) if settings.max_silence else None,
            "max_override": (
                format_duration(settings.max_override) if settings.max_override else None
            ),
        },
        current="/ui/silences",
    )
