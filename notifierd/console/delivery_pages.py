"""The console's delivery search and request pages: ``GET /api/v1/deliveries`` as a GET form
with its keyset "next page", and one request with each delivery's attempts, history and
rendered payload — on the same backend functions and query parsers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import BACKEND, BadQuery, delivery_page, delivery_search, id_problem
from notifierd.status import DeliveryStatus

# The search's fields, in the form's order (the API's query parameters).
DELIVERY_FILTERS = ("request_id", "title", "channel", "recipient", "status", "since", "until")


async def deliveries(request: web.Request) -> web.Response:
    """The delivery search as a form (GET, so a search is a link), its results newest first,
    and a link to the next page carrying the API's cursor; a bad filter answers 400 with the
    API's message."""
    request = filled_in(request)
    context: dict[str, Any] = {
        "form": {name: request.query.get(name, "") for name in DELIVERY_FILTERS},
        "statuses": list(DeliveryStatus),
        "rows": [],
        "next_url": None,
        "error": None,
    }
    try:
        search = delivery_search(request)
    except BadQuery as exc:
        context["error"] = str(exc)
        return page(request, "deliveries.html", context, status=400, current="/ui/deliveries")
    try:
        found = await read(request.app[BACKEND].search_deliveries(search))
    except Unavailable:
        context["error"] = UNAVAILABLE
        return page(request, "deliveries.html", context, status=503, current="/ui/deliveries")
    rows, cursor = delivery_page(search, found)
    context["rows"] = rows
    context["next_url"] = request.rel_url.update_query(cursor=cursor) if cursor else None
    return page(request, "deliveries.html", context, current="/ui/deliveries")


async def request_page(request: web.Request) -> web.Response:
    """One request: what it was, the config snapshot that routed it, its alert, each delivery
    with its attempts, history and rendered payload (``GET /api/v1/requests/{id}``)."""
    rid = request.match_info["id"]
    if (why := id_problem(rid)) is not None:
        return problem(request, 400, f"Not a request id: {why}.", "/ui/deliveries")
    backend = request.app[BACKEND]
    try:
        found = await read(backend.request_status(rid))
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
            # A request records its snapshot's name (content hash and short git commit); the
            # full commit is known while that snapshot is still the active one.
            "active_snapshot": active if found["snapshot"] == str(active) else None,
            "pretty": pretty,
        },
        current="/ui/deliveries",
    )


def pretty(value: Any) -> str:
    """JSON as a person reads it: indented, keys sorted, non-ASCII as is."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
