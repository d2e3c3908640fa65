"""The console's routes: each page reads through the same backend functions as its JSON
endpoint (``http/app.py``), so the page and the API never disagree."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from notifierd.console import (
    admin_pages,
    alert_pages,
    dead_letters,
    delivery_pages,
    silences_page,
)
from notifierd.console.live import LIVE, LiveUpdates, events
from notifierd.console.signin import add_sign_in
from notifierd.http.app import BACKEND

STATIC = Path(__file__).resolve().parent / "static"


def add_console(app: web.Application) -> None:
    """Register ``/ui/`` and its pages on ``app``."""
    app.router.add_get("/ui", _home)
    app.router.add_get("/ui/", _home)
    app.router.add_get("/ui/alerts", alert_pages.alerts)
    app.router.add_get("/ui/alerts/{id}", alert_pages.alert)
    app.router.add_get("/ui/oncall", alert_pages.oncall)
    app.router.add_get("/ui/deliveries", delivery_pages.deliveries)
    app.router.add_get("/ui/requests/{id}", delivery_pages.request_page)
    app.router.add_get("/ui/dead-letters", dead_letters.dead_letters)
    app.router.add_get("/ui/silences", silences_page.silences)
    app.router.add_get("/ui/config", admin_pages.config)
    app.router.add_get("/ui/audit", admin_pages.audit)
    app.router.add_get("/ui/events", events)
    add_sign_in(app)
    app[LIVE] = live = LiveUpdates(app[BACKEND])
    app.on_shutdown.append(live.close)
    app.router.add_static("/ui/static/", STATIC, append_version=True)


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/alerts")
