"""Signing in to the console with one's own API token, and signing out (http/session.py keeps
the sessions). Both are audited with where the browser called from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from notifierd.console.render import page
from notifierd.http import session
from notifierd.http.app import BACKEND, origin
from notifierd.store.audit import Action, AuditEntry, Outcome

log = logging.getLogger("notifierd.console")

UNKNOWN_TOKEN = "That token is not known"
PRODUCER_TOKEN = "That is a producer's token: sign in with your own (a person's) token"
TOO_MANY = "Too many failed sign-ins from your address; try again in a few minutes"
OTHER_SITE = "This form was sent from another site"
MAX_TOKEN = 4096


def add_sign_in(app: web.Application) -> None:
    app.router.add_get(session.SIGN_IN, sign_in_form)
    app.router.add_post(session.SIGN_IN, sign_in)
    app.router.add_post(session.SIGN_OUT, sign_out)


def _open(request: web.Request) -> bool:
    """No credential configured: the console is open (anonymous-local), nothing to sign in."""
    return not request.app[BACKEND].principals().configured


def _form(
    request: web.Request, next_page: str, problem: str | None = None, status: int = 200
) -> web.Response:
    return page(
        request,
        "sign_in.html",
        {"next_page": next_page, "problem": problem},
        status=status,
        current=session.SIGN_IN,
    )


async def sign_in_form(request: web.Request) -> web.Response:
    next_page = session.safe_next(request.query.get("next"))
    if _open(request):
        raise web.HTTPSeeOther(next_page)
    return _form(request, next_page)


async def sign_in(request: web.Request) -> web.Response:
    """``token`` (the person's own API token) and ``next`` (where to go): 303 there with the
    session cookie; 401 for a token no person has, after a delay; 429 for an address that
    failed too often."""
    form = await request.post()
    next_page = session.safe_next(_field(form, "next"))
    if _open(request):
        raise web.HTTPSeeOther(next_page)
    if not session.same_origin(request):
        return _form(request, next_page, OTHER_SITE, status=403)
    sessions = request.app[session.SESSIONS]
    backend = request.app[BACKEND]
    where = origin(request)
    if await sessions.too_many_failures(where):
        log.warning(
            "console sign-in refused: too many failures from %s",
            where,
            extra={"event": "console_sign_in_limited"},
        )
        response = _form(request, next_page, TOO_MANY, status=429)
        response.headers["Retry-After"] = str(int(sessions.settings.failure_window))
        return response
    token = (_field(form, "token") or "").strip()[:MAX_TOKEN]
    found = backend.principals().authenticate(f"Bearer {token}") if token else None
    if found is None or found.producer is not None:
        reason = "unknown token" if found is None else f"a producer's token ({found.id})"
        await backend.record_audit(
            AuditEntry(
                found.id if found else "unknown",
                Action.SIGN_IN,
                "console",
                origin=where,
                outcome=Outcome.FAILED,
                detail={"reason": reason},
            )
        )
        log.warning(
            "console sign-in failed from %s: %s",
            where,
            reason,
            extra={"event": "console_sign_in_failed"},
        )
        # Every failure costs the guesser this long (the answer is otherwise instant).
        await asyncio.sleep(sessions.settings.failure_delay)
        return _form(request, next_page, UNKNOWN_TOKEN if found is None else PRODUCER_TOKEN, 401)
    opened = await sessions.open(found, token.encode("utf-8", "surrogatepass"), where)
    await backend.record_audit(
        AuditEntry(found.id, Action.SIGN_IN, "console", origin=where, outcome=Outcome.DONE)
    )
    log.info("console sign-in by %s", found.id, extra={"event": "console_sign_in"})
    response = web.Response(status=303, headers={"Location": next_page})
    session.set_cookie(request, response, opened.cookie)
    response.headers["Cache-Control"] = "no-store"
    return response


async def sign_out(request: web.Request) -> web.Response:
    """End the session (its CSRF token checked by the middleware) and go to the sign-in form."""
    signed = request.get(session.SESSION)
    response = web.Response(status=303, headers={"Location": session.SIGN_IN})
    session.clear_cookie(response)
    if signed is None:  # a bearer token or an open listener: no session to end
        return response
    await request.app[session.SESSIONS].end(signed.id_hash)
    await request.app[BACKEND].record_audit(
        AuditEntry(signed.principal.id, Action.SIGN_OUT, "console", origin=origin(request))
    )
    log.info("console sign-out by %s", signed.principal.id, extra={"event": "console_sign_out"})
    return response


def _field(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None
