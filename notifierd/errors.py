"""Errors shared across the daemon's edges."""

from __future__ import annotations

import re
from dataclasses import dataclass


class ServiceUnavailable(Exception):
    """Redis or Postgres cannot be reached; the message is one line naming the URL and the fix."""


def mask_url(url: str) -> str:
    """``scheme://user:***@host/db``: a URL fit for logs and error messages."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass(frozen=True, slots=True)
class Conflict:
    """An action the state of what it acts on refuses (an acknowledged alert cannot be
    escalated), and why: HTTP answers 409 with the reason, the CLI exits 1 saying it."""

    reason: str
