"""Rendering console pages: one Jinja environment for the package's templates, and what every
page's layout needs (who is signed in, the CSRF token for actions, the navigation)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from notifierd.http import session

log = logging.getLogger("notifierd.console")
T = TypeVar("T")

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
    # The pages show times from the store (datetimes) and from the API's documents (ISO text).
    env.filters["age"] = lambda value, now=None: age(moment_of(value), now)
    env.filters["when"] = lambda value: when(moment_of(value))
    env.filters["until"] = until
    env.filters["iso"] = lambda value: m.isoformat() if (m := moment_of(value)) else ""
    env.filters["segment"] = segment
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


def filled_in(request: web.Request) -> web.Request:
    """``request`` without the query parameters a GET form left empty: an empty filter field
    means no filter, not a filter on the empty string."""
    query = {k: v for k, v in request.query.items() if v.strip()}
    if len(query) == len(request.query):
        return request
    return request.clone(rel_url=request.rel_url.with_query(query))


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


def until(value: datetime | str | None, now: datetime | None = None) -> str:
    """How long until ``value``: ``in 4m 10s``, or ``due`` once it has passed."""
    moment = moment_of(value)
    if moment is None:
        return ""
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    return f"in {duration(seconds)}" if seconds > 0 else "due"


def moment_of(value: datetime | str | None) -> datetime | None:
    """A time as a page receives it: a datetime, or the ISO-8601 text of a JSON answer (the
    backend's ``show_alert`` and ``request_status`` are the API's documents)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def segment(value: object) -> str:
    """``value`` as one path segment of a link: ids may hold ``/``, ``?`` or ``#``."""
    return quote(str(value), safe="")


def problem(request: web.Request, status: int, message: str, current: str) -> web.Response:
    """A page that says what went wrong, with its status (400 bad input, 404, 503): the
    console answers a page, never the API's JSON."""
    return page(
        request,
        "problem.html",
        {"status": status, "message": message},
        status=status,
        current=current,
    )


class Unavailable(Exception):
    """Postgres or Redis did not answer a page's read."""


UNAVAILABLE = "The store (Postgres or Redis) did not answer; try again."


async def read(source: Awaitable[T]) -> T:
    """``source``'s answer; Unavailable when the store does not answer (the page says so)."""
    try:
        return await source
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("console: reading failed: %s", exc)
        raise Unavailable from exc
