"""Who calls the API and whether their roles allow the route: bearer tokens to principals.

Health, readiness and Slack (signed by Slack) stay open, and so does ``/metrics`` unless
``--private-metrics``. Every other route names the roles that may call it; a finer check (a
producer's own requests and alerts) is the handler's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from notifierd.principals import (
    ANONYMOUS_LOCAL,
    API_TOKEN_ENV,
    EVERY_ROLE,
    Principal,
    Principals,
    Role,
)

TOKEN_ENV = API_TOKEN_ENV
# What the listener's refusal tells an operator to configure.
CREDENTIALS_HINT = (
    f"set {TOKEN_ENV} or give a producer or person in routes.yaml a token "
    "(an environment variable or NOTIFIERD_SECRETS_FILE)"
)

# Route (method, path pattern) -> the roles of which one is needed.
ROUTE_ROLES: Mapping[tuple[str, str], frozenset[Role]] = {
    ("POST", "/-/reload"): frozenset({Role.ADMIN}),
    ("GET", "/metrics"): frozenset({Role.VIEW}),  # only asked with --private-metrics
    ("POST", "/api/v1/notify"): frozenset({Role.PRODUCE}),
    ("POST", "/api/v1/alertmanager"): frozenset({Role.PRODUCE}),
    ("POST", "/api/v1/grafana"): frozenset({Role.PRODUCE}),
    # Only the producer a heartbeat names may beat it: the backend refuses any other (403).
    ("POST", "/api/v1/heartbeats/{name}"): frozenset({Role.PRODUCE}),
    # A producer reads the requests it sent; view reads any (the handler decides).
    ("GET", "/api/v1/requests/{id}"): frozenset({Role.VIEW, Role.PRODUCE}),
    # A producer acts on its own alerts (and what may_act_on grants); operate on any.
    ("POST", "/api/v1/alerts/{id}/ack"): frozenset({Role.OPERATE, Role.PRODUCE}),
    ("POST", "/api/v1/alerts/{id}/resolve"): frozenset({Role.OPERATE, Role.PRODUCE}),
    ("POST", "/api/v1/alerts/{id}/escalate"): frozenset({Role.OPERATE, Role.PRODUCE}),
    ("GET", "/api/v1/oncall"): frozenset({Role.VIEW}),
    # Run-time silences and overrides: anyone with view sees them, operate adds and ends them.
    ("GET", "/api/v1/silences"): frozenset({Role.VIEW}),
    ("POST", "/api/v1/silences"): frozenset({Role.OPERATE}),
    ("POST", "/api/v1/silences/{id}/expire"): frozenset({Role.OPERATE}),
    ("GET", "/api/v1/overrides"): frozenset({Role.VIEW}),
    ("POST", "/api/v1/overrides"): frozenset({Role.OPERATE}),
    ("POST", "/api/v1/overrides/{id}/remove"): frozenset({Role.OPERATE}),
    # The console's views read with view; its actions (a dead letter's retry) need operate.
    ("GET", "/api/v1/alerts"): frozenset({Role.VIEW}),
    ("GET", "/api/v1/alerts/{id}"): frozenset({Role.VIEW}),
    ("GET", "/api/v1/deliveries"): frozenset({Role.VIEW}),
    ("GET", "/api/v1/dead-letters"): frozenset({Role.VIEW}),
    ("POST", "/api/v1/dead-letters/retry"): frozenset({Role.OPERATE}),
    ("GET", "/api/v1/config"): frozenset({Role.VIEW}),
    ("GET", "/api/v1/audit"): frozenset({Role.VIEW}),
    ("GET", "/api/v1/rate-limits"): frozenset({Role.VIEW}),
    # Renders a preview and changes nothing: a read, though its context is a body.
    ("POST", "/api/v1/templates/{name}/render"): frozenset({Role.VIEW}),
    # What the API is: any principal may read it.
    ("GET", "/api/v1/openapi.json"): EVERY_ROLE,
    # Anyone signed in may sign out.
    ("POST", "/ui/sign-out"): EVERY_ROLE,
}

# The console's pages read with view (its actions are API calls, each with its own roles).
CONSOLE = "/ui"
CONSOLE_STATIC = "/ui/static/"
# The sign-in form is open: it is how a person gets a session.
CONSOLE_SIGN_IN = "/ui/sign-in"

# Calendar feeds: calendar apps send no headers, so the URL's ``?token=`` (a feed token from
# ``calendar_feeds:``) is the credential and the handler checks it, not the bearer middleware.
FEED_ROUTES = frozenset({"/api/v1/oncall/schedules/{id}.ics", "/api/v1/oncall/people/{name}.ics"})
FEED_TOKEN_PARAM = "token"
_TOKEN_IN_URL = re.compile(rf"([?&;]{FEED_TOKEN_PARAM}=)[^&;#\s]*", re.IGNORECASE)


def redacted(url: str) -> str:
    """``url`` (or any text quoting one) fit for a log: every ``token=`` query value becomes
    REDACTED, since a feed URL carries its secret."""
    return _TOKEN_IN_URL.sub(r"\1REDACTED", url)


def protected(path: str, *, private_metrics: bool = False) -> bool:
    """Routes that change or reveal state; health, Slack (signed), the console's stylesheet
    and script and its sign-in form stay open, and so does ``/metrics`` unless ``--private-metrics``."""
    if path.startswith(CONSOLE_STATIC) or path == CONSOLE_SIGN_IN:
        return False
    return (
        path.startswith(("/api/", "/ui"))
        or path == "/-/reload"
        or (private_metrics and path == "/metrics")
    )


def credentials_configured(
    environ: Mapping[str, str], principals: Principals | None = None
) -> bool:
    """Whether any credential guards the API — the break-glass token in the environment, or a
    producer's or person's token — : the one test of whether the listener is open."""
    return bool(environ.get(TOKEN_ENV)) or (principals is not None and principals.configured)


class Unauthenticated(Exception):
    """No bearer token, or one no principal has: 401."""


class Forbidden(Exception):
    """A principal whose roles do not allow the route: 403 naming the role needed."""

    def __init__(self, needed: frozenset[Role]) -> None:
        super().__init__(" or ".join(sorted(needed)))
        self.needed = needed


def principal_for(
    principals: Principals,
    method: str,
    route: str,
    header: str | None,
    *,
    open_without_credentials: bool,
) -> Principal:
    """The caller of ``method route``; raises Unauthenticated or Forbidden.

    With no credential configured anywhere, a listener started open (loopback, or
    ``--insecure-no-auth``) stays open and every caller is ``anonymous-local``; one started
    with credentials fails closed when a reload takes them all away."""
    if not principals.configured:
        if open_without_credentials:
            return ANONYMOUS_LOCAL
        raise Unauthenticated
    principal = principals.authenticate(header)
    if principal is None:
        raise Unauthenticated
    check_roles(principal, method, route)
    return principal


def check_roles(principal: Principal, method: str, route: str) -> None:
    """Raises Forbidden unless ``principal`` holds one of the roles ``method route`` needs: a
    route's own entry in ROUTE_ROLES, else view to read a console page, else admin."""
    needed = ROUTE_ROLES.get((method, route)) or (
        frozenset({Role.VIEW})
        if method in ("GET", "HEAD") and route.startswith(CONSOLE)
        else frozenset({Role.ADMIN})
    )
    if not needed & principal.roles:
        raise Forbidden(needed)
