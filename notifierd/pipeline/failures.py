"""Which failures are the infrastructure's (Redis or Postgres away) rather than the request's."""

from __future__ import annotations

from notifierd.redisio.connect import redis_transient
from notifierd.store.db import is_transient


def infrastructure_failure(exc: BaseException) -> bool:
    """True when Redis or Postgres failed (a cut connection, a full pool, a restart, a deadlock):
    such a failure is never a request's outcome; the request is processed again, as a restart
    would. Anything else is a bug or bad data, and retrying it would loop forever."""
    return is_transient(exc) or redis_transient(exc)
