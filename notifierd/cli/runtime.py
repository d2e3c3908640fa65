"""``notifierd silence add | list | expire`` and ``notifierd override add | list | remove``: the
run-time silences and schedule overrides, written to Postgres ($POSTGRES_URL) directly.

The one exception to "the repository decides" (README, "Silences and overrides at run time"):
checked against the config (--config) and its settings.runtime bounds, and audited as
``cli:<OS user>`` via ``cli``. Every daemon applies a change within about two seconds.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from notifierd.cli import common
from notifierd.cli.args import LIMIT, Moment
from notifierd.cli.services import run_async, with_store
from notifierd.cli.tables import TABLE_FORMAT, print_table

if TYPE_CHECKING:
    from notifierd.active import Runtime
    from notifierd.runtime.changes import Actor, RuntimeChanges
    from notifierd.store.db import Store

T = TypeVar("T")
ROW_ID = click.IntRange(1, 2**63 - 1)


def cli_actor() -> Actor:
    """``cli:<OS user>``, via ``cli``, as the audit log records it."""
    from notifierd.runtime.changes import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "unknown"
    return Actor(f"cli:{user}", "cli")


def _changing(act: Callable[[RuntimeChanges], Awaitable[T]]) -> T:
    """``act`` with the store's changes; a refusal is one ``error:`` line (2: not granted;
    1: no such id, or it had ended)."""
    from notifierd.runtime.changes import AlreadyEnded, NotFound, NotGranted, RuntimeChanges
    from notifierd.store.audit import AuditLog
    from notifierd.store.runtime import RuntimeStore

    async def run(store: Store) -> T:
        changes = RuntimeChanges(RuntimeStore(store.pool), AuditLog(store.pool), _now)
        return await act(changes)

    try:
        return run_async(with_store(run))
    except NotGranted as exc:
        common.fail(str(exc), 2)
    except (NotFound, AlreadyEnded) as exc:
        common.fail(str(exc), 1)


def _now() -> datetime:
    return datetime.now(UTC)


def _reading(read: Callable[[Any], Awaitable[T]]) -> T:
    from notifierd.store.runtime import RuntimeStore

    async def run(store: Store) -> T:
        return await read(RuntimeStore(store.pool))

    return run_async(with_store(run))


def _when(text: str | None) -> str:
    return text.replace("+00:00", "Z") if text else ""


# -- silences ------------------------------------------------------------------------------------


@click.group()
def silence() -> None:
    """Run-time silences: suppress matching requests for a while, without a pull request.

    Needs the operate role's trust: whoever can reach Postgres can add one, and the audit log
    records them as cli:<OS user>. At most settings.runtime.max_silence (default 24h) long."""


@silence.command("add")
@click.option(
    "--match",
    "matchers",
    multiple=True,
    required=True,
    metavar="MATCHER",
    help="A matcher as in routes.yaml, e.g. 'service=\"db\"'; repeat: all must match.",
)
@click.option("--for", "duration", metavar="DURATION", help="How long, e.g. 2h.")
@click.option("--until", type=Moment(), help="Until this ISO-8601 time (instead of --for).")
@click.option("--reason", required=True, help="Why: shown with the silence and audited.")
@common.config_option()
@TABLE_FORMAT
def silence_add(
    matchers: tuple[str, ...],
    duration: str | None,
    until: datetime | None,
    reason: str,
    config_dir: str,
    fmt: str,
) -> None:
    """Silence the requests matching every --match from now, --for a while or --until a time.

    \b
      notifierd silence add --match 'service="db"' --for 2h --reason "failover drill"
    """
    snapshot = common.load_or_exit(config_dir)
    actor = cli_actor()
    row = _changing(
        lambda c: c.add_silence(
            snapshot, actor, list(matchers), reason, until=until, duration=duration
        )
    )
    _show_silences([row], fmt, f"silence {row.id} added")


@silence.command("list")
@click.option("--recent", is_flag=True, help="Also those ended in the last 7 days.")
@click.option("--limit", type=LIMIT, default=100, show_default=True)
@TABLE_FORMAT
def silence_list(recent: bool, limit: int, fmt: str) -> None:
    """The run-time silences not ended (or recent ones too), newest first."""
    now = _now()
    if recent:
        rows = _reading(lambda s: s.recent_silences(now, limit))
    else:
        rows = _reading(lambda s: s.active_silences(now, limit))
    _show_silences(rows, fmt, f"run-time silences ({len(rows)})")


@silence.command("expire")
@click.argument("silence_id", metavar="ID", type=ROW_ID)
def silence_expire(silence_id: int) -> None:
    """End silence ID now."""
    actor = cli_actor()
    row = _changing(lambda c: c.expire_silence(silence_id, actor))
    click.echo(f"silence {row.id} ended; daemons stop applying it within about two seconds")


def _show_silences(rows: list[Any], fmt: str, title: str) -> None:
    from notifierd.runtime.views import silence_json

    now = _now()
    shown = [silence_json(r, now) for r in rows]
    if fmt == "json":
        common.print_json(shown)
        return
    print_table(
        title,
        ("id", "matchers", "from", "until", "state", "by", "reason"),
        [
            (
                s["id"],
                ", ".join(s["matchers"]),
                _when(s["starts_at"]),
                _when(s["ends_at"]),
                _state(row, now),
                s["created_by"],
                s["reason"],
            )
            for row, s in zip(rows, shown, strict=True)
        ],
    )


def _state(row: Any, now: datetime) -> str:
    """active, pending (starts later), ended, or ``expired by``/``removed by`` who ended it."""
    if row.in_force(now):
        return "active"
    early = getattr(row, "expired_by", None) or getattr(row, "removed_by", None)
    if early is not None:
        return f"{'expired' if hasattr(row, 'expired_by') else 'removed'} by {early}"
    return "pending" if row.starts_at > now else "ended"


# -- overrides -----------------------------------------------------------------------------------


@click.group()
def override() -> None:
    """Run-time schedule overrides: put someone on call for a while, without a pull request.

    A run-time override is the newest decision: it wins over every layer and every override of
    the config in its window. At most settings.runtime.max_override (default 7d) ahead."""


@override.command("add")
@click.argument("schedule")
@click.argument("person")
@click.option("--until", type=Moment(), help="Until this ISO-8601 time.")
@click.option(
    "--for", "duration", metavar="DURATION", help="How long, e.g. 8h (instead of --until)."
)
@click.option("--from", "start", type=Moment(), help="From this time (default: now).")
@click.option("--reason", required=True, help="Why: shown by oncall and audited.")
@common.config_option()
@TABLE_FORMAT
def override_add(
    schedule: str,
    person: str,
    until: datetime | None,
    duration: str | None,
    start: datetime | None,
    reason: str,
    config_dir: str,
    fmt: str,
) -> None:
    """Put PERSON on call for SCHEDULE from now (or --from) until --until (or --for).

    \b
      notifierd override add primary bob --until 2026-12-01T09:00Z --reason "alice is ill"
    """
    snapshot = common.load_or_exit(config_dir)
    actor = cli_actor()
    row = _changing(
        lambda c: c.add_override(
            snapshot,
            actor,
            schedule,
            person,
            reason,
            starts_at=start,
            until=until,
            duration=duration,
        )
    )
    _show_overrides([row], fmt, f"override {row.id} added")


@override.command("list")
@click.option("--schedule", help="Only this schedule's.")
@click.option("--recent", is_flag=True, help="Also those ended in the last 7 days.")
@click.option("--limit", type=LIMIT, default=100, show_default=True)
@TABLE_FORMAT
def override_list(schedule: str | None, recent: bool, limit: int, fmt: str) -> None:
    """The run-time overrides not ended (or recent ones too), newest first."""
    now = _now()
    if recent:
        rows = _reading(lambda s: s.recent_overrides(now, schedule, limit))
    else:
        rows = _reading(lambda s: s.active_overrides(now, schedule, limit))
    _show_overrides(rows, fmt, f"run-time overrides ({len(rows)})")


@override.command("remove")
@click.argument("override_id", metavar="ID", type=ROW_ID)
def override_remove(override_id: int) -> None:
    """End override ID now."""
    actor = cli_actor()
    row = _changing(lambda c: c.remove_override(override_id, actor))
    click.echo(f"override {row.id} ended; daemons stop applying it within about two seconds")


def _show_overrides(rows: list[Any], fmt: str, title: str) -> None:
    from notifierd.runtime.views import override_json

    now = _now()
    shown = [override_json(r, now) for r in rows]
    if fmt == "json":
        common.print_json(shown)
        return
    print_table(
        title,
        ("id", "schedule", "person", "from", "until", "state", "by", "reason"),
        [
            (
                o["id"],
                o["schedule"],
                o["person"],
                _when(o["starts_at"]),
                _when(o["ends_at"]),
                _state(row, now),
                o["created_by"],
                o["reason"],
            )
            for row, o in zip(rows, shown, strict=True)
        ],
    )


# -- what routes test and oncall show ------------------------------------------------------------

RUNTIME_OPTION = click.option(
    "--runtime/--no-runtime",
    "with_runtime",
    default=True,
    show_default=True,
    help="Lay the run-time silences and overrides in Postgres over the config when "
    "$POSTGRES_URL is set and answers; --no-runtime: the repository's config alone.",
)
# How long a preview waits for Postgres before it answers from the config alone.
READ_TIMEOUT = 3.0


@dataclass(frozen=True)
class RuntimeRead:
    """The run-time silences and overrides a preview lays over the config, and a note saying
    where they came from (or why there are none)."""

    runtime: Runtime
    note: str
    read: bool


def read_runtime(now: datetime, wanted: bool = True) -> RuntimeRead:
    """The silences and overrides not ended at ``now``, read from the Postgres $POSTGRES_URL
    names when it is set and answers; otherwise none, and the note says so (never a failure:
    the config alone still answers)."""
    from notifierd.active import NO_RUNTIME

    if not wanted:
        return RuntimeRead(NO_RUNTIME, "not read (--no-runtime)", False)
    from notifierd.cli.args import checked_postgres_url
    from notifierd.errors import mask_url

    if not os.environ.get("POSTGRES_URL"):
        # Not the local default: a CI job checking a pull request has no daemon's database.
        return RuntimeRead(NO_RUNTIME, "not read: $POSTGRES_URL is not set", False)
    try:
        url = checked_postgres_url()
    except click.UsageError as exc:
        return RuntimeRead(NO_RUNTIME, f"not read: {exc.message}", False)
    try:
        runtime = asyncio.run(_read(url, now))
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return RuntimeRead(
            NO_RUNTIME,
            f"not read, the config alone is shown: {reason}"
            + ("" if mask_url(url) in reason else f" (Postgres at {mask_url(url)})"),
            False,
        )
    if runtime is None:
        return RuntimeRead(
            NO_RUNTIME, f"none: the database at {mask_url(url)} has no run-time tables", True
        )
    note = (
        f"{len(runtime.silences)} silence(s), {len(runtime.overrides)} override(s) not ended, "
        f"read from {mask_url(url)}"
    )
    return RuntimeRead(runtime, note, True)


async def _read(url: str, now: datetime) -> Runtime | None:
    """None when the database has never been migrated to hold them (it is left as it is)."""
    import asyncpg

    from notifierd.runtime.refresh import read_runtime as read
    from notifierd.store.db import Store
    from notifierd.store.runtime import RuntimeStore

    async with asyncio.timeout(READ_TIMEOUT):
        store = await Store.connect(url, min_size=1, max_size=1, apply_migrations=False)
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            return await read(RuntimeStore(store.pool), now)
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await store.close()
