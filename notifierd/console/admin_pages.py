"""The console's config and audit pages: the active config's state and who did what."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import (
    BACKEND,
    BadQuery,
    audit_page,
    audit_search,
    config_document,
)
from notifierd.store.audit import Action, Outcome

AUDIT_FILTERS = ("actor", "action", "target", "since", "until")


async def config(request: web.Request) -> web.Response:
    """The active snapshot, the last reload and its problems, channels missing secrets, and
    each rate limit's use now."""
    backend = request.app[BACKEND]
    document = config_document(backend)
    try:
        limits = await backend.rate_limits()
        limits_error = None
    except Exception as exc:  # Redis down: the rest of the page still answers
        limits, limits_error = [], f"rate limits are unavailable: {exc}"
    shown = {
        **document,
        "loaded": _moment(document.get("loaded_at")),
        "reloaded": _moment((document.get("last_reload") or {}).get("at")),
        "rate_limits": limits,
        "rate_limits_error": limits_error,
    }
    return page(request, "config.html", shown, current="/ui/config")


def _detail_text(detail: Any) -> str:
    """An entry's detail as readable JSON (the page escapes it; ``tojson`` would show a quote
    as ``\\u0027``)."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True)


def _moment(iso: Any) -> datetime | None:
    """The API document's ISO time as a datetime, which the page shows as every page does."""
    return datetime.fromisoformat(iso) if isinstance(iso, str) else None


async def audit(request: web.Request) -> web.Response:
    """The audit log, filtered by a GET form; "Export JSON" is the API's answer for the same
    filters."""
    request = filled_in(request)
    filters = {name: request.query.get(name, "") for name in AUDIT_FILTERS}
    context = {
        "detail_text": _detail_text,
        "filters": filters,
        "actions": list(Action),
        "outcomes": list(Outcome),
        "export": request.rel_url.with_path("/api/v1/audit").with_query(
            {k: v for k, v in filters.items() if v}
        ),
    }
    try:
        search = audit_search(request)
    except BadQuery as exc:
        return page(
            request,
            "audit.html",
            {**context, "entries": [], "problem": str(exc)},
            status=400,
            current="/ui/audit",
        )
    try:
        found = await read(request.app[BACKEND].search_audit(search))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/audit")
    entries, cursor = audit_page(search, found)
    next_page = request.rel_url.update_query({"cursor": cursor}) if cursor is not None else None
    return page(
        request,
        "audit.html",
        {**context, "entries": entries, "next_page": next_page, "problem": None},
        current="/ui/audit",
    )
