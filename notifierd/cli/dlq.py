"""``notifierd dlq list | retry``: the dead-letter queue."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING

import click

from notifierd.cli.args import LIMIT
from notifierd.cli.common import print_json
from notifierd.cli.services import redis_url, run_async, with_store
from notifierd.cli.tables import TABLE_FORMAT, print_table

if TYPE_CHECKING:
    from notifierd.store.db import Store


@click.group()
def dlq() -> None:
    """Deliveries that failed permanently or ran out of retries, and requests whose processing
    failed (kind ``request``: a bug, or records Postgres refused)."""


@dlq.command("list")
@click.option("--channel", help="Only this channel.")
@click.option("--limit", type=LIMIT, default=100, show_default=True)
@TABLE_FORMAT
def list_(channel: str | None, limit: int, fmt: str) -> None:
    """Dead deliveries and dead requests, newest first."""
    rows = run_async(with_store(lambda s: s.dlq_list(channel, limit)))
    if fmt == "json":
        print_json(
            [
                {
                    **dataclasses.asdict(r),
                    "delivery_id": str(r.delivery_id) if r.delivery_id else None,
                }
                for r in rows
            ]
        )
        return
    print_table(
        f"dead-letter queue ({len(rows)})",
        [
            "kind",
            "delivery",
            "request",
            "title",
            "channel",
            "recipient",
            "attempts",
            "dead at",
            "error",
        ],
        [
            [
                r.kind,
                str(r.delivery_id) if r.delivery_id else "-",
                r.request_id,
                r.title,
                r.channel or "-",
                r.recipient or "-",
                r.attempts,
                r.dead_at.strftime("%Y-%m-%d %H:%M:%S"),
                r.error,
            ]
            for r in rows
        ],
    )


@dlq.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Requeue every dead delivery and request.")
def retry(ids: tuple[str, ...], all_: bool) -> None:
    """Requeue dead deliveries (delivery ids or request ids) for a fresh round of retries, and
    put dead requests back on the queue they came from (Redis from $REDIS_URL)."""
    if not ids and not all_:
        raise click.UsageError("name delivery or request ids, or use --all")
    # Checked before Postgres is touched: a bad REDIS_URL must not leave half a retry done.
    redis_at = redis_url()

    async def requeue(store: Store) -> tuple[int, int]:
        from notifierd.redisio.connect import connect_redis

        redis = None

        async def push(queue: str, raw: str) -> None:
            nonlocal redis
            if redis is None:
                redis = await connect_redis(redis_at)
            await redis.rpush(queue, raw)  # the consuming end: taken next

        try:
            done = await store.dlq_requeue(push, all_=all_, ids=ids)
        finally:
            if redis is not None:
                await redis.aclose()
        await _audit_retry(store, ids, all_, done)
        return done

    count, replayed = run_async(with_store(requeue))
    click.echo(
        f"requeued {count} deliver{'y' if count == 1 else 'ies'}; the daemon retries them now"
    )
    if replayed:
        click.echo(
            f"put {replayed} request{'' if replayed == 1 else 's'} back on the queue; "
            "deliveries they already made are not repeated"
        )
    if count == 0 and replayed == 0 and ids:
        sys.exit(1)


async def _audit_retry(
    store: Store, ids: tuple[str, ...], all_: bool, done: tuple[int, int]
) -> None:
    """The retry in the audit log, as ``cli:<OS user>`` via ``cli`` (the API records its own)."""
    from notifierd.cli.runtime import cli_actor
    from notifierd.store.audit import Action, AuditEntry, AuditLog

    actor = cli_actor()
    await AuditLog(store.pool).record(
        AuditEntry(
            actor.id,
            Action.RETRY,
            actor.via,
            "all" if all_ else ",".join(ids)[:1000],
            detail={"ids": list(ids), "all": all_, "deliveries": done[0], "requests": done[1]},
        )
    )
