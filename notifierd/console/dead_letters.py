"""The console's dead-letter page: what died, filtered by channel; retrying is the API's
(``POST /api/v1/dead-letters/retry``), and the page's script follows each retried request to
its new outcome."""

from __future__ import annotations

from aiohttp import web

from notifierd.console.render import UNAVAILABLE, Unavailable, filled_in, page, problem, read
from notifierd.http.app import BACKEND, BadQuery, dead_letter_filters

SHOWN = 200


async def dead_letters(request: web.Request) -> web.Response:
    request = filled_in(request)
    channel_text = request.query.get("channel", "")
    try:
        channel, limit = dead_letter_filters(request, default_limit=SHOWN)
    except BadQuery as exc:
        return page(
            request,
            "dead_letters.html",
            {"letters": [], "channel": channel_text, "problem": str(exc)},
            status=400,
            current="/ui/dead-letters",
        )
    try:
        letters = await read(request.app[BACKEND].dead_letters(channel, limit))
    except Unavailable:
        return problem(request, 503, UNAVAILABLE, "/ui/dead-letters")
    return page(
        request,
        "dead_letters.html",
        {"letters": letters, "channel": channel_text, "problem": None, "limit": limit},
        current="/ui/dead-letters",
    )
