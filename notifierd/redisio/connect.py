"""Connecting to Redis: a clear one-line error at start, backoff and retry while running."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import (
    ClusterDownError,
    MasterDownError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

from notifierd.errors import InvalidServiceUrl, ServiceUnavailable, mask_url

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a Redis outage looks like from the client — the connection lost or refused, and the
# server answering that it cannot now (a replica after a failover, out of memory, still loading,
# no master, busy with a script); anything else is a bug or bad data and must not be retried
# forever.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
    ReadOnlyError,
    RedisOutOfMemoryError,
    MasterDownError,
    TryAgainError,
    ClusterDownError,
)
# Refusals redis-py has no class of its own for, by the reply's first word.
_TRANSIENT_REPLIES = ("BUSY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM", "READONLY")


def redis_transient(exc: BaseException) -> bool:
    """True when Redis failed for a while (see TRANSIENT_ERRORS), not for the command."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(_TRANSIENT_REPLIES)


# Connections one client opens at most. Redis use is bounded by design: rate-limit waiters
# queue in-process (one Redis call per limit at a time), the intake takes and acks in batches;
# a burst of single commands (dedup claims of hundreds of requests at once) waits for a free
# connection instead of failing with "Too many connections".
MAX_CONNECTIONS = 32
# How long a command waits for a free connection before that is a (transient) ConnectionError.
POOL_TIMEOUT = 30.0


async def connect_redis(
    url: str,
    *,
    connect_timeout: float = 5.0,
    max_connections: int = MAX_CONNECTIONS,
    pool_timeout: float = POOL_TIMEOUT,
    **options: Any,
) -> Redis:
    """A client that answered PING, or ServiceUnavailable with a one-line reason and fix.

    Responses stay bytes: requests are raw bytes until parse_request decodes them. The pool
    blocks for a free connection rather than opening more than ``max_connections``.
    """
    try:
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=pool_timeout,
            decode_responses=False,
            socket_connect_timeout=connect_timeout,
            health_check_interval=30,
            **options,
        )
        client = Redis.from_pool(pool)
    except ValueError as exc:  # a malformed URL: starting Redis would not help
        raise InvalidServiceUrl(
            f"invalid Redis URL {mask_url(url)}: {_reason(exc)}; set REDIS_URL, e.g. "
            "redis://127.0.0.1:6379/0"
        ) from None
    try:
        await client.ping()
    except TRANSIENT_ERRORS as exc:
        await client.aclose()
        raise ServiceUnavailable(
            f"cannot reach Redis at {mask_url(url)}: {_reason(exc)}. Start it with: "
            "redis-server --daemonize yes (or set REDIS_URL)"
        ) from None
    except ResponseError as exc:  # e.g. a database number the server does not have
        await client.aclose()
        raise ServiceUnavailable(
            f"Redis at {mask_url(url)} refused the connection: {_reason(exc)} (check REDIS_URL)"
        ) from None
    return client


def _reason(exc: BaseException) -> str:
    """The exception as one line, without the trailing period redis-py adds."""
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
