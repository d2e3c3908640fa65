"""Rendering console pages: one Jinja environment for the package's templates, and what every
page's layout needs (who is signed in, the CSRF token for actions, the navigation)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from notifierd.http import session

# (path, label) of the navigation, in order; a page names its own path as ``current``.
NAVIGATION = (
    ("/ui/alerts", "Alerts"),
    ("/ui/oncall", "On call"),
    ("/ui/deliveries", "Deliveries"),
    ("/ui/dead-letters", "Dead letters"),
    ("/ui/silences", "Silences"),
    ("/ui/config", "Config"),
    ("/ui/audit", "Audit log"),
)

# Set by the session layer (http/session.py) on each /ui/ request: the token a form or a
# fetch must send back with an action. Empty for a caller that needs none (a bearer token).
CSRF_TOKEN = session.CSRF_TOKEN


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("notifierd.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["age"] = age
    env.filters["when"] = when
    return env


def page(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    current: str | None = None,
) -> web.Response:
    """``template`` rendered with ``context`` in the layout: HTML that is never cached."""
    from notifierd.http.app import PRINCIPAL  # the principal key lives with the middleware

    who = request.get(PRINCIPAL)
    html = (
        environment()
        .get_template(template)
        .render(
            **context,
            principal=who,
            csrf_token=request.get(CSRF_TOKEN, ""),
            navigation=NAVIGATION,
            current=current or request.path,
            now=datetime.now(UTC),
        )
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, in the largest two units: ``3h 12m``, ``45s``."""
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    return duration(seconds)


def duration(seconds: int) -> str:
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return sign + " ".join(parts)


def when(moment: datetime | None) -> str:
    """A time as the pages show it: UTC, to the second (the page's script shows local time)."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
