"""The HTTP routes: health, readiness, metrics, reload, intake, status, alert actions, the
console's views and actions (alerts, deliveries, dead letters, config, rate limits, template
previews), who is on call (JSON and calendar feeds), Slack. ``http/openapi.yaml`` describes
every ``/api/v1`` route."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from prometheus_client.exposition import choose_encoder

from notifierd import metrics
from notifierd.errors import Conflict
from notifierd.http import auth, openapi, session, slack, slack_replies
from notifierd.http.connections import connection_state
from notifierd.intake.parse import MAX_REQUEST_BYTES, Rejection, parse_request, request_problems
from notifierd.intake.webhooks import (
    ALERTMANAGER,
    GRAFANA,
    Dialect,
    Invalid,
    split_beats,
    translate,
)
from notifierd.principals import FeedKind, Principal, Refused, Role, slack_actor
from notifierd.schedules import listing
from notifierd.schedules.ics import CalendarShift, calendar
from notifierd.status import AlertStatus, DeliveryStatus
from notifierd.store.audit import Action, AuditCursor, AuditEntry, AuditSearch, Outcome
from notifierd.store.rows import (
    DeliveryCursor,
    DeliverySearch,
    EventCursor,
    HistoryEntry,
    TimelinePage,
)
from notifierd.templates.preview import PreviewRefused, channel_targets, preview

if TYPE_CHECKING:
    from notifierd.http.backend import AlertActions, Backend

log = logging.getLogger("notifierd.http")

BACKEND: web.AppKey[Backend] = web.AppKey("backend")
BACKGROUND: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("background")
PRIVATE_METRICS: web.AppKey[bool] = web.AppKey("private_metrics")
# Whether the API is open while no credential is configured (a loopback or --insecure-no-auth
# listener); a listener started with credentials fails closed if a reload removes them all.
OPEN_WITHOUT_CREDENTIALS: web.AppKey[bool] = web.AppKey("open_without_credentials")
# The authenticated caller, on each protected request.
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
BODY_TIMEOUT: web.AppKey[float] = web.AppKey("body_timeout", float)
# A webhook payload commits in Postgres before its answer; Alertmanager's own timeout is longer.
WEBHOOK_TIMEOUT = 10.0
CHECK_TIMEOUT = 2.0  # per readiness check: a probe must answer before its own timeout
SLACK_WAIT = 2.0  # Slack wants an answer within 3 s; slower work finishes in the background
SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"

# A calendar feed shows the last week too (a shift just ended stays visible) and eight ahead.
FEED_BEHIND = timedelta(days=7)
FEED_AHEAD = timedelta(days=56)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")
StatusT = TypeVar("StatusT", bound=StrEnum)


def error(status: int, message: str, **extra: Any) -> web.Response:
    """Every error answer: ``{"error": message, ...}`` with its status."""
    return web.json_response({"error": message, **extra}, status=status)


def answer(data: Any, status: int = 200) -> web.Response:
    """A JSON answer; values JSON has no type for (timestamps, UUIDs) become strings."""
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=str)


def build_app(
    backend: Backend,
    *,
    private_metrics: bool = False,
    open_without_credentials: bool = True,
    body_timeout: float = 30.0,
    sessions: session.SessionSettings = session.DEFAULT_SESSIONS,
) -> web.Application:
    """The aiohttp application serving ``backend`` (the daemon); ``private_metrics``: /metrics
    asks for the API's credentials too; ``open_without_credentials``: see OPEN_WITHOUT_CREDENTIALS;
    ``body_timeout``: seconds a client has to send its request body; ``sessions``: the web
    console's sign-in sessions."""
    # One request body is at most one queue request; aiohttp answers 413 beyond it.
    app = web.Application(
        middlewares=[
            _request_log,
            _errors_as_json,
            connection_state,
            _bearer_token,
            _body_deadline,
            _csrf,
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[BACKEND] = backend
    app[BODY_TIMEOUT] = body_timeout
    app[BACKGROUND] = set()
    app[PRIVATE_METRICS] = private_metrics
    app[OPEN_WITHOUT_CREDENTIALS] = open_without_credentials
    app[session.SESSIONS] = session.Sessions(backend, sessions)
    app.on_response_prepare.append(_console_headers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_post("/-/reload", reload)
    app.router.add_post("/api/v1/notify", notify)
    app.router.add_post("/api/v1/alertmanager", alertmanager)
    app.router.add_post("/api/v1/grafana", grafana)
    app.router.add_post("/api/v1/heartbeats/{name}", heartbeat)
    app.router.add_get("/api/v1/requests/{id}", request_status)
    app.router.add_post("/api/v1/alerts/{id}/ack", acknowledge)
    app.router.add_post("/api/v1/alerts/{id}/resolve", resolve)
    app.router.add_post("/api/v1/alerts/{id}/escalate", escalate)
    app.router.add_get("/api/v1/alerts", list_alerts)
    app.router.add_get("/api/v1/alerts/{id}", show_alert)
    app.router.add_get("/api/v1/deliveries", search_deliveries)
    app.router.add_get("/api/v1/dead-letters", dead_letters)
    app.router.add_post("/api/v1/dead-letters/retry", retry_dead_letters)
    app.router.add_get("/api/v1/config", config_status)
    app.router.add_get("/api/v1/audit", audit_log)
    app.router.add_get("/api/v1/rate-limits", rate_limits)
    app.router.add_post("/api/v1/templates/{name}/render", render_template)
    app.router.add_get("/api/v1/openapi.json", openapi_document)
    app.router.add_get("/api/v1/oncall", oncall)
    from notifierd.http.runtime_api import add_runtime_routes  # it builds on this module

    add_runtime_routes(app)
    app.router.add_get("/api/v1/oncall/schedules/{id}.ics", schedule_feed)
    app.router.add_get("/api/v1/oncall/people/{name}.ics", person_feed)
    app.router.add_post("/slack/interactions", slack_interactions)
    app.on_shutdown.append(_finish_background)
    return app


# -- middlewares ---------------------------------------------------------------------------------


@web.middleware
async def _request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One debug line per request, its URL redacted: a calendar feed's URL carries its token."""
    response = await handler(request)
    if log.isEnabledFor(logging.DEBUG):  # the redaction is not free: only when it is written
        log.debug(
            "HTTP %s %s -> %d",
            request.method,
            auth.redacted(request.path_qs),
            response.status,
            extra={"event": "http_request"},
        )
    return response


@web.middleware
async def _errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own errors (404, 405, 413) as JSON; a bug as a 500 without a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {
            404: "not found",
            405: f"method {request.method} not allowed",
            413: f"request body is larger than the {MAX_REQUEST_BYTES // (1 << 20)} MiB limit",
        }.get(exc.status, exc.reason)
        response = error(exc.status, message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception(
            "HTTP %s %s failed",
            request.method,
            auth.redacted(request.path_qs),
            extra={"event": "http_error"},
        )
        return error(500, "internal error; see the daemon log")


@web.middleware
async def _bearer_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The caller's principal from its bearer token, or from the console's session cookie when
    it sends no token; 401 without either (a console page: 303 to the sign-in form), 403
    without the role."""
    if not auth.protected(request.path, private_metrics=request.app[PRIVATE_METRICS]):
        return await handler(request)
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else request.path
    if route in auth.FEED_ROUTES:
        return await handler(request)  # the feed's own token, checked by its handler
    principals = request.app[BACKEND].principals()
    header = request.headers.get("Authorization")
    cookie = request.cookies.get(session.COOKIE)
    console = request.path == auth.CONSOLE or request.path.startswith(auth.CONSOLE + "/")
    try:
        if header is None and cookie and principals.configured:
            signed = await request.app[session.SESSIONS].resolve(cookie, principals)
            if signed is None and console:
                return _to_sign_in(request, forget=True)
            if signed is not None:
                auth.check_roles(signed.principal, request.method, route)
                request[session.SESSION] = signed
                request[session.CSRF_TOKEN] = signed.csrf_token
                request[PRINCIPAL] = signed.principal
                return await handler(request)
        if header is None and console and principals.configured:
            return _to_sign_in(request, forget=False)
        request[PRINCIPAL] = auth.principal_for(
            principals,
            request.method,
            route,
            header,
            open_without_credentials=request.app[OPEN_WITHOUT_CREDENTIALS],
        )
    except auth.Unauthenticated:
        response = error(401, "missing or unknown bearer token (Authorization: Bearer <token>)")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    except auth.Forbidden as exc:
        needed = " or ".join(sorted(exc.needed))
        return error(403, f"this token lacks the role this route needs: {needed}", needs=needed)
    return await handler(request)


def _to_sign_in(request: web.Request, *, forget: bool) -> web.Response:
    """A console request without a (valid) session: to the sign-in form, which brings the
    person back here; the stale cookie is dropped."""
    response = web.Response(status=303, headers={"Location": session.sign_in_location(request)})
    if forget:
        session.clear_cookie(response)
    return response


@web.middleware
async def _body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read the body within BODY_TIMEOUT (the handlers then read it from memory): a client
    trickling its body holds a connection for seconds, not for as long as it likes."""
    if request.body_exists:
        timeout = request.app[BODY_TIMEOUT]
        try:
            async with asyncio.timeout(timeout):
                await request.read()
        except TimeoutError:
            response = error(408, f"the request body did not arrive within {timeout:g} s")
            response.force_close()
            return response
    return await handler(request)


@web.middleware
async def _csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request authenticated by the console's cookie that changes something must send the
    session's CSRF token back (``X-CSRF-Token``, or a form's ``csrf_token``): another site can
    make a browser send the cookie, never read the token. Bearer requests need none."""
    signed = request.get(session.SESSION)
    if signed is None or request.method in session.SAFE_METHODS:
        return await handler(request)
    presented = request.headers.get(session.CSRF_HEADER)
    if presented is None and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        field = form.get(session.CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    if not request.app[session.SESSIONS].csrf_ok(signed, presented):
        return error(403, session.CSRF_REFUSED)
    return await handler(request)


# The console's pages run no inline script and load nothing from elsewhere, and no other site
# may frame them (clickjacking an Acknowledge button).
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


async def _console_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path == auth.CONSOLE or request.path.startswith(auth.CONSOLE + "/"):
        for name, value in CONSOLE_HEADERS.items():
            response.headers.setdefault(name, value)


def principal(request: web.Request) -> Principal:
    """The authenticated caller (set by the bearer-token middleware)."""
    return request[PRINCIPAL]


# -- operations ----------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """Alive: answers without touching Redis or Postgres."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis and Postgres answer and a valid config is active; 503 naming what is not."""
    backend = request.app[BACKEND]
    redis_ok, postgres_ok = await asyncio.gather(
        _bounded(backend.redis_ok()), _bounded(backend.postgres_ok())
    )
    checks = {
        "redis": bool(redis_ok),
        "postgres": bool(postgres_ok),
        "config": True,  # the daemon starts only with a valid config, and keeps the last good one
    }
    ready = all(checks.values()) and not backend.draining
    body: dict[str, Any] = {"ready": ready, "checks": checks}
    if backend.draining:  # a load balancer should stop sending us work
        body["stopping"] = True
    return web.json_response(body, status=200 if ready else 503)


async def _bounded(check: Awaitable[Any]) -> Any:
    """The check's answer, or False when it fails or takes longer than CHECK_TIMEOUT."""
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except Exception:
        return False


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus exposition of notifierd.metrics.REGISTRY, in the format the scraper asks for."""
    depth = await _bounded(request.app[BACKEND].queue_depth())
    if depth is not False:  # keep the last known depth when Redis does not answer
        metrics.QUEUE_DEPTH.set(depth)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return web.Response(
        body=encode(metrics.exposition_registry()), headers={"Content-Type": content_type}
    )


async def reload(request: web.Request) -> web.Response:
    """Validate the config on disk and swap it in; 422 with every problem when it is refused."""
    backend = request.app[BACKEND]
    reloaded = await backend.reload("HTTP")
    problems = backend.reload_problems()
    await backend.record_audit(
        AuditEntry(
            principal(request).id,
            Action.RELOAD,
            via(request),
            origin=origin(request),
            outcome=Outcome.DONE if reloaded or not problems else Outcome.FAILED,
            detail={"activated": reloaded, "problems": [str(p) for p in problems][:20]},
        )
    )
    if not reloaded and any(p.code == "internal" for p in problems):
        return error(500, "config reload failed unexpectedly; see the daemon log")
    if not reloaded and problems:
        return error(
            422,
            "config is invalid; the active config is unchanged",
            problems=[str(p) for p in problems],
            snapshot=_snapshot(backend),
        )
    return web.json_response({"reloaded": reloaded, "snapshot": _snapshot(backend)})


def _snapshot(backend: Backend) -> dict[str, Any]:
    identity = backend.snapshot()
    return {
        "id": str(identity),
        "content_hash": identity.content_hash,
        "git_commit": identity.git_commit,
        "git_dirty": identity.git_dirty,
    }


# -- the API -------------------------------------------------------------------------------------


async def notify(request: web.Request) -> web.Response:
    """Validate a request and push it onto the queue, exactly as a producer would; 202 + id."""
    backend = request.app[BACKEND]
    raw = await request.read()
    data, problem = decode_json(raw)
    if problem is not None:
        return error(400, "invalid request", problems=[problem])
    if not isinstance(data, dict):
        return error(400, "invalid request", problems=["a request must be a JSON object"])
    if "id" not in data:  # the id is the idempotency key: the caller needs it to ask for status
        data["id"] = str(uuid.uuid4())
    problems = request_problems(data)
    if problems:
        return error(400, "invalid request", problems=problems)
    try:
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): escaped, the parser names it
        payload = json.dumps(data, separators=(",", ":")).encode()
    if len(payload) > MAX_REQUEST_BYTES:
        return error(413, "request is larger than the 1 MiB limit once it has an id")
    # The daemon's own parser is the last word (NUL characters, lone surrogates, ...): what we
    # accept here must never end up on the rejected list.
    parsed = parse_request(payload)
    if isinstance(parsed, Rejection):
        return error(400, "invalid request", problems=[parsed.reason])
    try:
        await asyncio.wait_for(backend.enqueue(payload, principal(request)), CHECK_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("HTTP intake: Redis did not take the request: %s", exc)
        return error(503, "the queue (Redis) is unavailable; try again", id=data["id"])
    log.info(
        "request queued over HTTP by %s",
        principal(request).id,
        extra={"event": "http_intake", "request_id": data["id"]},
    )
    return web.json_response({"id": data["id"]}, status=202)


async def alertmanager(request: web.Request) -> web.Response:
    """Alertmanager's webhook payload (version 4): one alert per group, or per alert with
    ``?per_alert=true``; 200 once every request of it is committed in Postgres."""
    return await _webhook(request, ALERTMANAGER)


async def grafana(request: web.Request) -> web.Response:
    """Grafana alerting's webhook contact point payload (version 1), as ``alertmanager``."""
    return await _webhook(request, GRAFANA)


async def _webhook(request: web.Request, dialect: Dialect) -> web.Response:
    backend = request.app[BACKEND]
    data, problem = decode_json(await request.read())
    if problem is not None:
        return error(400, "invalid payload", problems=[problem])
    per_alert = request.query.get("per_alert", "false").lower()
    if per_alert not in ("true", "false"):
        return error(400, "invalid payload", problems=["per_alert: true or false"])
    sender = principal(request)
    beats = split_beats(data, dialect, backend.webhook_heartbeats(sender))
    if isinstance(beats, Invalid):
        return error(400, "invalid payload", problems=list(beats.problems))
    translated = translate(beats.payload, dialect, per_alert=per_alert == "true")
    if isinstance(translated, Invalid):
        return error(400, "invalid payload", problems=list(translated.problems))
    requests: list[tuple[str, bytes]] = []
    for item in translated.requests:
        payload = json.dumps(item, separators=(",", ":")).encode()
        # The daemon's own parser is the last word, as for /api/v1/notify: a label value the
        # request schema refuses refuses the payload (400), never a request on the rejected list.
        parsed = parse_request(payload)
        if isinstance(parsed, Rejection):
            return error(400, "invalid payload", problems=[parsed.reason])
        requests.append((item["id"], payload))

    async def commit() -> int:
        # Beats first: a failure answers 503 and the sender's retry beats again, harmlessly.
        for name in beats.beaten:
            await backend.beat(name, sender)
        return await backend.intake_webhook(dialect.source, requests, sender)

    try:
        queued = await asyncio.wait_for(commit(), WEBHOOK_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        # Not a 2xx: Alertmanager and Grafana retry the payload, and its ids make that safe.
        log.error("%s webhook: not committed: %s", dialect.source, exc)
        return error(503, "not committed (Postgres or Redis unavailable); retry")
    log.info(
        "%s webhook from %s: %d request(s), %d new, beats: %s",
        dialect.source,
        sender.id,
        len(requests),
        queued,
        ", ".join(beats.beaten) or "none",
        extra={"event": "webhook_intake"},
    )
    return web.json_response(
        {
            "requests": [request_id for request_id, _ in requests],
            "queued": queued,
            "beats": list(beats.beaten),
        },
        status=200,
    )


async def heartbeat(request: web.Request) -> web.Response:
    """A beat of the heartbeat ``name`` (routes.yaml ``heartbeats:``) by its producer: 200;
    404 for a name the config has not; 403 for any principal but its producer."""
    name = request.match_info["name"]
    if (problem := id_problem(name)) is not None:
        return error(400, f"invalid heartbeat name: {problem}")
    actor = principal(request)
    done = await request.app[BACKEND].beat(name, actor)
    if done is None:
        return error(404, "no such heartbeat", name=name)
    if isinstance(done, Refused):
        return error(403, "you may not beat this heartbeat", reason=done.reason, name=name)
    log.info(
        "heartbeat %s beaten over HTTP by %s",
        name,
        actor.id,
        extra={"event": "http_heartbeat"},
    )
    return answer(done)


def decode_json(raw: bytes) -> tuple[Any, str | None]:
    """(value, None), or (None, what is wrong with the bytes)."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: invalid byte at offset {exc.start}"
    if not text.strip():
        return None, "the body is empty; send a JSON object"
    try:
        return json.loads(text, parse_constant=_no_constant), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return None, "not valid JSON: nested too deeply"
    except ValueError as exc:
        return None, f"not valid JSON: {exc}"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


async def request_status(request: web.Request) -> web.Response:
    """The request's overall status and its deliveries (``notifierd status --format json``)."""
    request_id = request.match_info["id"]
    if (problem := id_problem(request_id)) is not None:
        return error(400, f"invalid request id: {problem}")
    caller = principal(request)
    backend = request.app[BACKEND]
    try:
        # Without view, a producer reads only what it sent; someone else's request is
        # answered as unknown, so ids cannot be probed.
        mine = caller.may(Role.VIEW) or await backend.request_sender(request_id) == caller.id
        found = await backend.request_status(request_id) if mine else None
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("HTTP status: reading from Postgres failed: %s", exc)
        return error(503, "the store (Postgres) is unavailable; try again")
    if found is None:
        return error(404, "no such request (not recorded yet, or unknown)", id=request_id)
    return answer(found)


def id_problem(text: str) -> str | None:
    """Why a path id cannot be anyone's (ids are 1-200 printable characters, no spaces, as
    in request.schema.json), so it is never sent to Postgres; None when it may be."""
    if len(text) > 200:
        return "longer than 200 characters"
    if not text.isprintable() or any(c.isspace() for c in text):
        return "ids contain no spaces, control characters (such as %00) or lone surrogates"
    return None


# -- the console's views and actions -------------------------------------------------------------

# A page of a listing: the console asks for screens, not exports (the CLI reads more).
DEFAULT_PAGE = 50
MAX_PAGE = 500


class BadQuery(Exception):
    """A query parameter that cannot be used: 400 with the message."""


def page_limit(request: web.Request) -> int:
    text = request.query.get("limit")
    if text is None:
        return DEFAULT_PAGE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise BadQuery(f"limit: a whole number from 1 to {MAX_PAGE}")
    return int(text)


def _choice(request: web.Request, name: str, kind: type[StatusT]) -> StatusT | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise BadQuery(f"{name}: one of {', '.join(kind)}") from None


def _moment(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None:
        return None
    moment = listing.parse_moment(text)
    if isinstance(moment, str):
        raise BadQuery(f"{name}: {moment}")
    return moment


def name_query(request: web.Request, name: str) -> str | None:
    """An id-like filter (a request id, a channel, a recipient): what no id can be is refused
    here, never sent to Postgres."""
    text = request.query.get(name)
    if text is not None and (problem := id_problem(text)) is not None:
        raise BadQuery(f"{name}: {problem}")
    return text


def _words(request: web.Request, name: str) -> str | None:
    """A free-text filter (a title's words): spaces allowed, at most 200 characters."""
    text = request.query.get(name)
    if text is not None and (len(text) > 200 or not text.isprintable()):
        raise BadQuery(f"{name}: at most 200 printable characters")
    return text


# A title search must hold a run of this many letters or digits: the trigram index on titles
# (migration 0018) serves no shorter one, and one in no title then reads every title (2.8 s at
# p95 over 400,000, bench/README.md).
MIN_TITLE_RUN = 3
_TITLE_RUN = re.compile(rf"[^\W_]{{{MIN_TITLE_RUN},}}")


def _title(request: web.Request) -> str | None:
    """The title filter: words as ``_words``, with at least ``MIN_TITLE_RUN`` letters or
    digits in a row."""
    text = _words(request, "title")
    if text is not None and _TITLE_RUN.search(text) is None:
        raise BadQuery(
            f"title: at least {MIN_TITLE_RUN} characters (letters or digits in a row, "
            "as in 'cpu'; shorter words cannot use the title index)"
        )
    return text


async def store_read(read: Awaitable[T]) -> T | web.Response:
    """``read``'s answer, or a 503 when Postgres (or Redis) does not answer."""
    try:
        return await read
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("HTTP console: reading failed: %s", exc)
        return error(503, "the store (Postgres or Redis) is unavailable; try again")


def alert_listing(request: web.Request) -> tuple[AlertStatus | None, int]:
    """The state and page size a listing of alerts asks for (``state``, ``limit``), for the
    API and the console alike; raises BadQuery."""
    return _choice(request, "state", AlertStatus), page_limit(request)


async def list_alerts(request: web.Request) -> web.Response:
    """Alerts, open ones first (``notifierd alerts list``): ``state``, ``limit``."""
    try:
        state, limit = alert_listing(request)
    except BadQuery as exc:
        return error(400, str(exc))
    found = await store_read(request.app[BACKEND].list_alerts(state, limit))
    if isinstance(found, web.Response):
        return found
    return answer({"alerts": [dataclasses.asdict(a) for a in found]})


def timeline_page(request: web.Request, default_limit: int | None = None) -> TimelinePage | None:
    """The page of an alert's timeline a request asks for (``timeline_limit``: the newest that
    many events; ``timeline_before``: older than the ``timeline_older`` token of a page), or
    ``default_limit``'s page, or None: every event. Raises BadQuery."""
    limit_text = request.query.get("timeline_limit")
    token = request.query.get("timeline_before")
    before = None
    if token is not None and (before := EventCursor.parse(token)) is None:
        raise BadQuery("timeline_before: not a timeline_older token this API gave out")
    if limit_text is None:
        if before is None and default_limit is None:
            return None
        return TimelinePage(default_limit or DEFAULT_PAGE, before)
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_PAGE:
        raise BadQuery(f"timeline_limit: a whole number from 1 to {MAX_PAGE}")
    return TimelinePage(int(limit_text), before)


async def show_alert(request: web.Request) -> web.Response:
    """One alert by id or dedup key, with its escalation steps and a page of its timeline
    (``timeline_limit``, ``timeline_before``): the newest MAX_PAGE events unless asked for
    fewer, so a flapping alert's thousands of events never make one answer slow."""
    key = request.match_info["id"]
    if (problem := id_problem(key)) is not None:
        return error(400, f"invalid alert id: {problem}")
    try:
        page = timeline_page(request, default_limit=MAX_PAGE)
    except BadQuery as exc:
        return error(400, str(exc))
    found = await store_read(request.app[BACKEND].show_alert(key, page))
    if isinstance(found, web.Response):
        return found
    if found is None:
        return error(404, "no such alert", id=key)
    return answer(found)


def delivery_search(request: web.Request) -> DeliverySearch:
    """The delivery search a request's query asks for (``request_id``, ``title``, ``channel``,
    ``recipient``, ``status``, ``since``, ``until``, ``cursor``, ``limit``), for the API and the
    console alike; it asks for one row more than the page (see ``delivery_page``). Raises
    BadQuery."""
    after = None
    if (token := request.query.get("cursor")) is not None:
        after = DeliveryCursor.parse(token)
        if after is None:
            raise BadQuery("cursor: not a cursor this API gave out")
    return DeliverySearch(
        request_id=name_query(request, "request_id"),
        title=_title(request),
        channel=name_query(request, "channel"),
        recipient=name_query(request, "recipient"),
        status=_choice(request, "status", DeliveryStatus),
        since=_moment(request, "since"),
        until=_moment(request, "until"),
        after=after,
        # One more than the page: whether there is a next page, without a count.
        limit=page_limit(request) + 1,
    )


def delivery_page(
    search: DeliverySearch, found: list[HistoryEntry]
) -> tuple[list[HistoryEntry], str | None]:
    """The page of ``found`` (what ``search`` found) and the cursor token of the next page, if
    there is one."""
    page = found[: search.limit - 1]
    more = len(found) > len(page)
    return page, page[-1].cursor.token() if more else None


async def search_deliveries(request: web.Request) -> web.Response:
    """Deliveries newest first, filtered, a page at a time: ``next_cursor`` continues."""
    try:
        search = delivery_search(request)
    except BadQuery as exc:
        return error(400, str(exc))
    found = await store_read(request.app[BACKEND].search_deliveries(search))
    if isinstance(found, web.Response):
        return found
    page, next_cursor = delivery_page(search, found)
    return answer({"deliveries": [dataclasses.asdict(d) for d in page], "next_cursor": next_cursor})


async def dead_letters(request: web.Request) -> web.Response:
    """The dead-letter queue newest first (``notifierd dlq list``): ``channel``, ``limit``."""
    try:
        channel, limit = dead_letter_filters(request)
    except BadQuery as exc:
        return error(400, str(exc))
    found = await store_read(request.app[BACKEND].dead_letters(channel, limit))
    if isinstance(found, web.Response):
        return found
    return answer({"dead_letters": [dataclasses.asdict(d) for d in found]})


def dead_letter_filters(
    request: web.Request, default_limit: int | None = None
) -> tuple[str | None, int]:
    """(channel, limit) of a dead-letter listing; BadQuery names a bad one."""
    if default_limit is not None and "limit" not in request.query:
        return name_query(request, "channel"), default_limit
    return name_query(request, "channel"), page_limit(request)


async def retry_dead_letters(request: web.Request) -> web.Response:
    """Requeue dead deliveries and put dead requests back on their queues (``dlq retry``):
    ``{"ids": [...]}`` (delivery or request ids) or ``{"all": true}``."""
    data, problem = decode_json(await request.read())
    if problem is not None:
        return error(400, problem)
    ids = data.get("ids", []) if isinstance(data, dict) else None
    all_ = data.get("all", False) if isinstance(data, dict) else None
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, str) and id_problem(i) is None for i in ids)
        or len(ids) > MAX_PAGE
        or not isinstance(all_, bool)
        or not (ids or all_)
    ):
        return error(
            400,
            f'name what to retry: {{"ids": [up to {MAX_PAGE} delivery or request ids]}} '
            'or {"all": true}',
        )
    done = await store_read(request.app[BACKEND].retry_dead_letters(ids, all_=all_))
    if isinstance(done, web.Response):
        return done
    deliveries, requests = done
    await request.app[BACKEND].record_audit(
        AuditEntry(
            principal(request).id,
            Action.RETRY,
            via(request),
            "all" if all_ else ",".join(ids)[:1000],
            origin(request),
            detail={"ids": ids, "all": all_, "deliveries": deliveries, "requests": requests},
        )
    )
    log.info(
        "dead letters retried over HTTP by %s: %d deliveries, %d requests",
        principal(request).id,
        deliveries,
        requests,
        extra={"event": "http_dlq_retry"},
    )
    return answer({"deliveries": deliveries, "requests": requests})


async def audit_log(request: web.Request) -> web.Response:
    """The audit log newest first, filtered (``actor``, ``action``, ``target``, ``since``,
    ``until``), a page at a time: ``next_cursor`` continues."""
    try:
        search = audit_search(request)
    except BadQuery as exc:
        return error(400, str(exc))
    found = await store_read(request.app[BACKEND].search_audit(search))
    if isinstance(found, web.Response):
        return found
    page, cursor = audit_page(search, found)
    return answer({"entries": [entry.as_json() for entry in page], "next_cursor": cursor})


def audit_search(request: web.Request) -> AuditSearch:
    """The audit search a request's query asks for (one more row than the page, to tell
    whether a next page exists); BadQuery names a bad filter."""
    after = None
    if token := request.query.get("cursor"):
        after = AuditCursor.parse(token)
        if after is None:
            raise BadQuery("cursor: not a cursor this API gave out")
    return AuditSearch(
        actor=name_query(request, "actor"),
        action=_choice(request, "action", Action),
        target=name_query(request, "target"),
        since=_moment(request, "since"),
        until=_moment(request, "until"),
        after=after,
        limit=page_limit(request) + 1,
    )


def audit_page(search: AuditSearch, found: list[AuditEntry]) -> tuple[list[AuditEntry], str | None]:
    """The page of ``found`` to show, and the cursor of the next page (None: the last)."""
    page = found[: search.limit - 1]
    last = page[-1] if len(found) > len(page) else None
    if last is None or last.at is None or last.id is None:
        return page, None
    return page, AuditCursor(last.at, last.id).token()


def via(request: web.Request) -> str:
    """How an action arrived, for the audit log: the console (its session cookie) or the API
    (a bearer token)."""
    return "console" if session.SESSION in request else "http"


def origin(request: web.Request) -> str | None:
    """The client's address, for the audit log."""
    return request.remote


async def config_status(request: web.Request) -> web.Response:
    """The active config: its identity, when it became active, the last reload and why it was
    refused, and the channels that cannot deliver for want of a secret."""
    return answer(config_document(request.app[BACKEND]))


def config_document(backend: Backend) -> dict[str, Any]:
    """What GET /api/v1/config answers (and the console's config page shows)."""
    last = backend.last_reload()
    missing = backend.missing_secrets()
    channels = backend.config().channels
    return {
        "snapshot": _snapshot(backend),
        "loaded_at": backend.loaded_at().isoformat(),
        "last_reload": None
        if last is None
        else {
            "at": last.at.isoformat(),
            "outcome": last.outcome,
            "problems": [str(p) for p in backend.reload_problems()],
        },
        "channels_missing_secrets": [
            {"channel": name, "type": channels[name].type, "missing": names}
            for name, names in sorted(missing.items())
        ],
    }


async def rate_limits(request: web.Request) -> web.Response:
    """Each rate limit's use now (``notifierd ratelimit status``); consumes nothing."""
    found = await store_read(request.app[BACKEND].rate_limits())
    if isinstance(found, web.Response):
        return found
    return answer({"rate_limits": [dataclasses.asdict(s) for s in found]})


async def render_template(request: web.Request) -> web.Response:
    """What each channel would receive from template ``name`` (``name@version``), as
    ``notifierd template render``: body ``{"context": {...}, "channel": ..., "example": N}``,
    each optional."""
    backend = request.app[BACKEND]
    ref = request.match_info["name"]
    raw = await request.read()
    data, problem = decode_json(raw) if raw.strip() else ({}, None)
    if problem is not None:
        return error(400, problem)
    if not isinstance(data, dict):
        return error(400, 'the body must be a JSON object such as {"context": {...}}')
    context, channel, example = data.get("context"), data.get("channel"), data.get("example")
    if context is not None and not isinstance(context, dict):
        return error(400, "context: a JSON object")
    if channel is not None and not isinstance(channel, str):
        return error(400, "channel: a channel type or a channel name")
    if example is not None and (isinstance(example, bool) or not isinstance(example, int)):
        return error(400, "example: a whole number from 1")
    targets = channel_targets(backend.config(), channel)
    if isinstance(targets, str):
        return error(400, f"channel: {targets}")
    shown = preview(backend.catalog(), targets, ref, context, example)
    if isinstance(shown, PreviewRefused):
        status = 404 if shown.about == "unknown" else 422
        return error(status, shown.reason, about=shown.about, template=ref)
    return answer(
        {"template": shown.template, "context": shown.context, "channels": shown.channels}
    )


async def openapi_document(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document."""
    return web.Response(body=openapi.document_json(), content_type="application/json")


# -- who is on call ------------------------------------------------------------------------------


async def oncall(request: web.Request) -> web.Response:
    """Who is on call (``notifierd oncall --format json``): ``at`` (ISO-8601, default now),
    ``schedule`` (an id or handle), ``next`` (a look-ahead such as 7d), ``person``."""
    snapshot = request.app[BACKEND].config()
    query = request.query
    now = listing.parse_moment(query["at"]) if "at" in query else datetime.now(UTC)
    if isinstance(now, str):
        return error(400, f"at: {now}")
    span = listing.parse_ahead(query["next"]) if "next" in query else None
    if isinstance(span, str):
        return error(400, f"next: {span}")
    chosen = listing.every_schedule(snapshot)
    if "schedule" in query:
        found = listing.find_schedule(snapshot, query["schedule"])
        if found is None:
            return error(404, "no such schedule", schedule=query["schedule"])
        chosen = [found]
    person = query.get("person")
    if person is not None and person not in snapshot.people:
        return error(404, "no such person", person=person)
    looking_ahead = span is not None or person is not None
    if looking_ahead:
        # Up to a year of many schedules: computed off the event loop.
        rows = await asyncio.to_thread(
            listing.ahead, chosen, now, span or listing.DEFAULT_AHEAD, person
        )
    else:
        rows = listing.in_force(chosen, now)
    return answer(listing.document(rows, now, looking_ahead))


async def schedule_feed(request: web.Request) -> web.Response:
    """One schedule's shifts as an iCalendar feed, for the token of a feed that names it."""
    snapshot = request.app[BACKEND].config()
    sid = request.match_info["id"]
    # The token first, whatever the id: an unknown schedule must not answer sooner.
    allowed = _feed_allowed(request, FeedKind.SCHEDULE, sid)
    schedule = snapshot.schedules.get(sid)
    if schedule is None or not allowed:
        return _no_feed()
    now = datetime.now(UTC)
    rows = await asyncio.to_thread(
        listing.ahead, [schedule], now - FEED_BEHIND, FEED_BEHIND + FEED_AHEAD
    )
    return _ics(calendar(schedule.name, rows, now))


async def person_feed(request: web.Request) -> web.Response:
    """One person's shifts in every schedule as an iCalendar feed, for a feed token naming them."""
    snapshot = request.app[BACKEND].config()
    name = request.match_info["name"]
    allowed = _feed_allowed(request, FeedKind.PERSON, name)
    if name not in snapshot.people or not allowed:
        return _no_feed()
    now = datetime.now(UTC)
    rows: list[CalendarShift] = await asyncio.to_thread(
        listing.ahead,
        listing.every_schedule(snapshot),
        now - FEED_BEHIND,
        FEED_BEHIND + FEED_AHEAD,
        name,
    )
    return _ics(calendar(f"On call: {name}", rows, now))


def _feed_allowed(request: web.Request, kind: FeedKind, name: str) -> bool:
    presented = request.query.get(auth.FEED_TOKEN_PARAM)
    return request.app[BACKEND].principals().feed_allows(presented, kind, name)


def _no_feed() -> web.Response:
    # The same answer for a feed that does not exist and a token that does not read it, so a
    # URL cannot be used to learn which schedules, people or feeds exist.
    return error(404, "not found")


def _ics(text: str) -> web.Response:
    response = web.Response(body=text.encode("utf-8"), content_type="text/calendar")
    response.charset = "utf-8"
    # A feed URL is a credential: keep its answer out of shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


async def acknowledge(request: web.Request) -> web.Response:
    return await _alert_operation(request, "acknowledge")


async def resolve(request: web.Request) -> web.Response:
    return await _alert_operation(request, "resolve")


async def escalate(request: web.Request) -> web.Response:
    """Fire the alert's next level now; 409 with the reason when its state refuses it."""
    return await _alert_operation(request, "escalate")


async def _alert_operation(request: web.Request, operation: str) -> web.Response:
    alerts = request.app[BACKEND].alerts
    if alerts is None:
        return error(503, "alerts are not enabled")
    alert_id = request.match_info["id"]
    if (problem := id_problem(alert_id)) is not None:
        return error(400, f"invalid alert id: {problem}")
    note, problem = _note(await request.read())
    if problem is not None:
        return error(400, problem)
    actor = principal(request)
    found = await _operation(alerts, operation)(
        alert_id, actor, via(request), note=note, origin=origin(request)
    )
    if found is None:
        return error(404, "no such alert", id=alert_id)
    if isinstance(found, Refused):
        return error(403, "you may not act on this alert", reason=found.reason, id=alert_id)
    if isinstance(found, Conflict):
        return error(409, f"cannot {operation} this alert", reason=found.reason, id=alert_id)
    log.info(
        "alert %s over HTTP by %s",
        operation,
        actor.id,
        extra={"event": f"http_{operation}", "alert_id": alert_id},
    )
    return answer(found)


def _note(raw: bytes) -> tuple[str | None, str | None]:
    """(note, problem) from an optional ``{"note": "..."}`` body; ``by`` is read as a note too
    (it used to name the actor, which is now always the token's principal)."""
    if not raw.strip():
        return None, None
    data, problem = decode_json(raw)
    if problem is not None:
        return None, problem
    if not isinstance(data, dict):
        return None, 'the body must be a JSON object such as {"note": "rolling back"}'
    note = data.get("note", data.get("by"))
    if note is None:
        return None, None
    if not isinstance(note, str) or not note.strip() or len(note) > 200:
        return None, "'note' must be a non-empty string of at most 200 characters"
    return note.strip(), None


# -- Slack -----------------------------------------------------------------------------------------


async def slack_interactions(request: web.Request) -> web.Response:
    """Button presses on notifierd's Slack messages: verified, then acknowledge, resolve or
    escalate."""
    secret = os.environ.get(SIGNING_SECRET_ENV)
    if not secret:
        return error(
            503,
            f"Slack interactivity is not configured: set {SIGNING_SECRET_ENV} "
            "(the app's Signing Secret) in the daemon's environment",
        )
    raw = await request.read()
    refused = slack.verify(
        secret,
        request.headers.get("X-Slack-Request-Timestamp"),
        raw,
        request.headers.get("X-Slack-Signature"),
        now=time.time(),
    )
    if refused is None and (
        replay := await _replay_refusal(request.app[BACKEND], request.headers["X-Slack-Signature"])
    ):
        return replay
    if refused is not None:
        log.warning("Slack request refused: %s", refused, extra={"event": "slack_refused"})
        return error(401, f"invalid Slack request: {refused}")
    try:
        actions = slack.parse_actions(raw)
    except slack.InvalidPayload as exc:
        return error(400, str(exc))
    if not actions:
        return web.Response(status=200)
    alerts = request.app[BACKEND].alerts
    if alerts is None:
        return error(503, "alerts are not enabled")
    config = request.app[BACKEND].config()
    work = [
        asyncio.create_task(_slack_action(alerts, action, slack_actor(config, action.user)))
        for action in actions
    ]
    background = request.app[BACKGROUND]
    for task in work:
        background.add(task)
        task.add_done_callback(background.discard)
    # Usually done at once; if not, Slack still gets its answer in time and the work goes on.
    await asyncio.wait(work, timeout=SLACK_WAIT)
    return web.Response(status=200)


async def _replay_refusal(backend: Backend, signature: str) -> web.Response | None:
    """The answer to a verified Slack request already taken inside the 5-minute window (by
    this replica or another), or to any while Redis cannot tell; None for a new one."""
    try:
        first = await asyncio.wait_for(
            backend.first_slack_request(signature, slack.REPLAY_MARK_SECONDS), CHECK_TIMEOUT
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("Slack request refused: Redis did not answer the replay check: %s", exc)
        return error(503, "cannot check the Slack request is not a replay: Redis is unavailable")
    if first:
        return None
    log.warning("Slack request refused: a replay", extra={"event": "slack_refused"})
    return error(401, "invalid Slack request: this exact request was already received (replay)")


def _operation(
    alerts: AlertActions, name: str
) -> Callable[..., Awaitable[dict[str, Any] | Refused | Conflict | None]]:
    """The alert action called ``name`` ("acknowledge", "resolve" or "escalate")."""
    if name == "escalate":
        return alerts.escalate
    return alerts.acknowledge if name == "acknowledge" else alerts.resolve


async def _slack_action(alerts: AlertActions, action: slack.Action, actor: Principal) -> None:
    try:
        found = await _operation(alerts, action.operation)(
            action.target, actor, "slack", note=action.by, context={"slack": action.slack}
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception(
            "Slack %s of %s failed", action.operation, action.target, extra={"event": "slack_error"}
        )
        return
    outcome = (
        " (no such alert)"
        if found is None
        else f" refused: {found.reason}"
        if isinstance(found, Refused | Conflict)
        else ""
    )
    log.info(
        "alert %s from Slack by %s%s",
        action.operation,
        actor.id,
        outcome,
        extra={"event": f"slack_{action.operation}", "alert_id": action.target},
    )
    if action.operation == "escalate":
        # The button stays on the message: only the person who pressed hears what came of it.
        problem = await slack_replies.reply(action.slack.get("response_url"), _escalated(found))
        if problem is not None:
            log.warning(
                "could not tell the Slack user what came of escalating %s: %s",
                action.target,
                problem,
                extra={"event": "slack_reply_failed", "alert_id": action.target},
            )


def _escalated(found: dict[str, Any] | Refused | Conflict | None) -> str:
    """What the person who pressed Escalate is told."""
    if found is None:
        return "Not escalated: no such alert."
    if isinstance(found, Refused):
        return f"Not escalated: you may not act on this alert ({found.reason})."
    if isinstance(found, Conflict):
        return f"Not escalated: {found.reason}."
    step = found["escalation"]
    level = f"level {step['level']} (round {step['round']})"
    if not step["joined"]:
        return f"Escalated: {level} of alert {found['id']} is being paged now."
    return (
        f"Not escalated further: {level} of alert {found['id']} was escalated moments ago "
        f"by {step['requested_by']}."
    )


async def _finish_background(app: web.Application) -> None:
    """Give Slack-triggered work a moment to finish at shutdown, then cancel what remains."""
    tasks: set[asyncio.Task[None]] = app[BACKGROUND]
    pending = set(tasks)
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=5.0)
    for task in stuck:
        task.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)
