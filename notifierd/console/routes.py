"""The console's routes: each page reads through the same backend functions as its JSON
endpoint (``http/app.py``), so the page and the API never disagree."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from notifierd.console import admin_pages, dead_letters
from notifierd.console.render import page
from notifierd.status import AlertStatus

STATIC = Path(__file__).resolve().parent / "static"
ALERTS_SHOWN = 200


def add_console(app: web.Application) -> None:
    """Register ``/ui/`` and its pages on ``app``."""
    app.router.add_get("/ui", _home)
    app.router.add_get("/ui/", _home)
    app.router.add_get("/ui/alerts", alerts)
    app.router.add_get("/ui/dead-letters", dead_letters.dead_letters)
    app.router.add_get("/ui/config", admin_pages.config)
    app.router.add_get("/ui/audit", admin_pages.audit)
    app.router.add_static("/ui/static/", STATIC, append_version=True)


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/alerts")


async def alerts(request: web.Request) -> web.Response:
    """Open alerts first (triggered, then acknowledged), newest first in each; then the
    resolved ones."""
    from notifierd.http.app import BACKEND

    found = await request.app[BACKEND].list_alerts(None, ALERTS_SHOWN)
    order = {AlertStatus.TRIGGERED: 0, AlertStatus.ACKNOWLEDGED: 1, AlertStatus.RESOLVED: 2}
    rows = sorted(found, key=lambda a: order[a.status])  # stable: newest first within each
    return page(request, "alerts.html", {"alerts": rows}, current="/ui/alerts")
