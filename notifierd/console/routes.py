"""The console's routes: each page reads through the same backend functions as its JSON
endpoint (``http/app.py``), so the page and the API never disagree."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from notifierd.console.live import LIVE, LiveUpdates, events
from notifierd.console.render import page
from notifierd.console.signin import add_sign_in
from notifierd.http.app import BACKEND
from notifierd.status import AlertStatus

STATIC = Path(__file__).resolve().parent / "static"
ALERTS_SHOWN = 200


def add_console(app: web.Application) -> None:
    """Register ``/ui/`` and its pages on ``app``."""
    app.router.add_get("/ui", _home)
    app.router.add_get("/ui/", _home)
    app.router.add_get("/ui/alerts", alerts)
    app.router.add_get("/ui/events", events)
    add_sign_in(app)
    app[LIVE] = live = LiveUpdates(app[BACKEND])
    app.on_shutdown.append(live.close)
    app.router.add_static("/ui/static/", STATIC, append_version=True)


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/alerts")


async def alerts(request: web.Request) -> web.Response:
    """Open alerts first (triggered, then acknowledged), newest first in each; then the
    resolved ones."""
    found = await request.app[BACKEND].list_alerts(None, ALERTS_SHOWN)
    order = {AlertStatus.TRIGGERED: 0, AlertStatus.ACKNOWLEDGED: 1, AlertStatus.RESOLVED: 2}
    rows = sorted(found, key=lambda a: order[a.status])  # stable: newest first within each
    return page(request, "alerts.html", {"alerts": rows}, current="/ui/alerts")
