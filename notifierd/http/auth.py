"""Who calls the API and whether their roles allow the route: bearer tokens to principals.

Health, readiness, metrics and Slack (signed by Slack) stay open. Every other route names the
roles that may call it; a finer check (a producer's own requests and alerts) is the handler's.
"""

from __future__ import annotations

from collections.abc import Mapping

from notifierd.principals import ANONYMOUS_LOCAL, Principal, Principals, Role

# Route (method, path pattern) -> the roles of which one is needed.
ROUTE_ROLES: Mapping[tuple[str, str], frozenset[Role]] = {
    ("POST", "/-/reload"): frozenset({Role.ADMIN}),
    ("POST", "/api/v1/notify"): frozenset({Role.PRODUCE}),
    # A producer reads the requests it sent; view reads any (the handler decides).
    ("GET", "/api/v1/requests/{id}"): frozenset({Role.VIEW, Role.PRODUCE}),
    # A producer acts on its own alerts (and what may_act_on grants); operate on any.
    ("POST", "/api/v1/alerts/{id}/ack"): frozenset({Role.OPERATE, Role.PRODUCE}),
    ("POST", "/api/v1/alerts/{id}/resolve"): frozenset({Role.OPERATE, Role.PRODUCE}),
}


def protected(path: str) -> bool:
    """Routes that change or reveal state; health, metrics and Slack (signed) stay open."""
    return path.startswith("/api/") or path == "/-/reload"


class Unauthenticated(Exception):
    """No bearer token, or one no principal has: 401."""


class Forbidden(Exception):
    """A principal whose roles do not allow the route: 403 naming the role needed."""

    def __init__(self, needed: frozenset[Role]) -> None:
        super().__init__(" or ".join(sorted(needed)))
        self.needed = needed


def principal_for(principals: Principals, method: str, route: str, header: str | None) -> Principal:
    """The caller of ``method route``; raises Unauthenticated or Forbidden.

    With no credential configured anywhere the API stays open, as it always was, and every
    caller is ``anonymous-local`` (the listener decides whether it may listen that way)."""
    if not principals.configured:
        return ANONYMOUS_LOCAL
    principal = principals.authenticate(header)
    if principal is None:
        raise Unauthenticated
    needed = ROUTE_ROLES.get((method, route), frozenset({Role.ADMIN}))
    if not needed & principal.roles:
        raise Forbidden(needed)
    return principal
