"""Connection settings for commands that talk to Redis or Postgres (from the environment)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from notifierd.cli.args import checked_postgres_url, checked_redis_url
from notifierd.defaults import DEFAULT_QUEUE

if TYPE_CHECKING:
    from notifierd.store.db import Store

T = TypeVar("T")


def redis_url() -> str:
    """``$REDIS_URL`` (default: the local server); a malformed one is a usage error (exit 2)."""
    return checked_redis_url()


def postgres_url() -> str:
    """``$POSTGRES_URL`` (default: the local server); a malformed one is a usage error (exit 2)."""
    return checked_postgres_url()


def default_queue() -> str:
    return os.environ.get("NOTIFIERD_QUEUE", DEFAULT_QUEUE)


def run_async(coro: Awaitable[T], *, fast_loop: bool = False) -> T:
    """Run a command's coroutine; an unreachable service is a one-line error, exit 1.

    ``fast_loop``: use uvloop where it is installed (the daemon: about a third more requests/s).
    """
    import asyncio  # here: `run`'s supervisor imports this module, and needs no event loop

    from notifierd.errors import InvalidServiceUrl, ServiceUnavailable

    try:
        if fast_loop:
            try:
                import uvloop
            except ImportError:
                pass
            else:
                return uvloop.run(coro)  # type: ignore[arg-type,no-any-return]
        return asyncio.run(coro)  # type: ignore[arg-type]
    except ServiceUnavailable as exc:
        click.echo(f"error: {exc}", err=True)
        # A malformed URL is the user's to fix (usage, 2); a server that is down is not (1).
        raise SystemExit(2 if isinstance(exc, InvalidServiceUrl) else 1) from None


async def with_store(fn: Callable[[Store], Awaitable[T]]) -> T:
    """``fn(store)`` with a short-lived connection to Postgres."""
    from notifierd.store.db import Store

    store = await Store.connect(postgres_url(), min_size=1, max_size=2)
    try:
        return await fn(store)
    finally:
        await store.close()
