"""The optional bearer token (``NOTIFIERD_API_TOKEN``) guarding the API and reload routes."""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

TOKEN_ENV = "NOTIFIERD_API_TOKEN"
# What the listener's refusal tells an operator to configure; grows with credentials_configured.
CREDENTIALS_HINT = f"set {TOKEN_ENV}"


def protected(path: str, *, private_metrics: bool = False) -> bool:
    """Routes that change or reveal state; health and Slack (signed) stay open, and so does
    ``/metrics`` unless ``--private-metrics``."""
    return (
        path.startswith("/api/") or path == "/-/reload" or (private_metrics and path == "/metrics")
    )


def credentials_configured(environ: Mapping[str, str]) -> bool:
    """Whether any credential guards the API: the one test of whether the listener is open."""
    return bool(environ.get(TOKEN_ENV))


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
