"""``notifierd ratelimit status``: how much of each configured rate limit is in use, from Redis."""

from __future__ import annotations

import dataclasses
import os

import click

from notifierd.cli.common import config_option, load_or_exit, print_json
from notifierd.cli.report import shown_path
from notifierd.cli.services import redis_url, run_async
from notifierd.cli.tables import print_table
from notifierd.config.values import format_duration
from notifierd.pipeline.ratelimit import LimitStatus


@click.group()
def ratelimit() -> None:
    """Rate limits declared in the config, as the daemon's replicas share them in Redis."""


@ratelimit.command()
@config_option()
@click.option(
    "--key-prefix",
    default=lambda: os.environ.get("NOTIFIERD_KEY_PREFIX", "notifierd"),
    show_default="$NOTIFIERD_KEY_PREFIX or notifierd",
    help="Prefix of the daemon's Redis keys (as given to `notifierd run`).",
)
# "text" is accepted too: the table is this command's text form.
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "text", "json"]),
    default="table",
    show_default=True,
)
def status(config_dir: str, key_prefix: str, fmt: str) -> None:
    """Used and remaining quota of every rate limit, and when it frees up; consumes nothing."""
    from notifierd.pipeline.ratelimit import RateLimiter
    from notifierd.redisio.connect import connect_redis
    from notifierd.redisio.keys import Keys

    limits = load_or_exit(config_dir).rate_limits
    if not limits:
        if fmt == "json":
            print_json([])
        else:
            click.echo(f"no rate limits are configured in {shown_path(config_dir)}")
        return

    redis_at = redis_url()

    async def main() -> list[LimitStatus]:
        redis = await connect_redis(redis_at)
        try:
            return await RateLimiter(redis, Keys(key_prefix)).status(limits)
        finally:
            await redis.aclose()

    statuses = run_async(main())
    if fmt == "json":
        print_json([dataclasses.asdict(s) for s in statuses])
        return
    print_table(
        f"rate limits ({len(statuses)})",
        [
            "limit",
            "algorithm",
            "limit per window",
            "used",
            "remaining",
            "next slot in",
            "full reset in",
        ],
        [
            [
                s.key,
                s.algorithm,
                f"{s.limit} / {format_duration(s.window)}"
                + (f", burst {s.capacity}" if s.capacity != s.limit else ""),
                s.used,
                s.remaining,
                _wait(s.retry_after),
                _wait(s.resets_in),
            ]
            for s in statuses
        ],
    )


def _wait(seconds: float) -> str:
    # Tenths of a second are what a person can act on; minutes read better whole.
    if seconds <= 0:
        return "now"
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(round(seconds))
