"""The optional bearer token (``NOTIFIERD_API_TOKEN``) guarding the API and reload routes."""

from __future__ import annotations

import hmac
import os

TOKEN_ENV = "NOTIFIERD_API_TOKEN"


def protected(path: str) -> bool:
    """Routes that change or reveal state; health, metrics and Slack (signed) stay open."""
    return path.startswith("/api/") or path == "/-/reload"


def configured_token() -> str | None:
    """The token from the environment; None (or empty) means the API is open."""
    return os.environ.get(TOKEN_ENV) or None


def authorized(header: str | None, token: str) -> bool:
    """True when ``Authorization`` is ``Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(
        given.strip().encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
    )
