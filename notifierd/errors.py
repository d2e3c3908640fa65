"""Errors shared across the daemon's edges."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceUnavailable(Exception):
    """Redis or Postgres cannot be reached; the message is one line naming the URL and the fix."""


class InvalidServiceUrl(ServiceUnavailable):
    """The Redis or Postgres URL itself is malformed: no retry or restart of a server helps."""


def mask_url(url: str) -> str:
    """``scheme://user:***@host/db``: a URL fit for logs and error messages.

    The password runs to the last ``@``: one with an unencoded ``@`` or ``/`` in a malformed
    URL is hidden whole (an ``@`` in the query hides a little more than needed, never less)."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not (sep and at and colon):
        return url
    return f"{scheme}://{user}:***@{host}"


@dataclass(frozen=True, slots=True)
class Conflict:
    """An action the state of what it acts on refuses (an acknowledged alert cannot be
    escalated), and why: HTTP answers 409 with the reason, the CLI exits 1 saying it."""

    reason: str
