"""Errors shared across the daemon's edges."""

from __future__ import annotations

import re


class ServiceUnavailable(Exception):
    """Redis or Postgres cannot be reached; the message is one line naming the URL and the fix."""


class InvalidServiceUrl(ServiceUnavailable):
    """The Redis or Postgres URL itself is malformed: no retry or restart of a server helps."""


def mask_url(url: str) -> str:
    """``scheme://user:***@host/db``: a URL fit for logs and error messages."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
