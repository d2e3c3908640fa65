"""``notifierd run`` (the daemon) and ``notifierd migrate``."""

from __future__ import annotations

import functools
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from notifierd.cli.args import BoundedNumber, seconds_option_type
from notifierd.cli.common import config_option, print_problems, require_config_dir
from notifierd.cli.report import shown_path
from notifierd.cli.services import default_queue, postgres_url, redis_url, run_async
from notifierd.supervisor import MAX_WORKERS, usable_cores

if TYPE_CHECKING:
    from notifierd.config.problems import Problem
    from notifierd.options import Options

# What `notifierd run` imports before it knows whether it is one daemon or the supervisor of
# several stays small (the standard library, click, the CLI's helpers): the supervisor keeps
# only that resident, each check needing more runs in a forked child (forked.py), and a daemon
# imports the rest once it is one.


@click.command()
@config_option()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Do everything but the network call to channels; log and record the payloads.",
)
@click.option(
    "--http",
    "http",
    metavar="[HOST:]PORT",
    help="Serve health, metrics and the API here; a port alone (PORT or :PORT) means 127.0.0.1. "
    "Beyond loopback the API needs $NOTIFIERD_API_TOKEN (or --insecure-no-auth).",
)
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Let --http beyond loopback serve the API without credentials: anyone who can reach "
    "it may send, acknowledge, resolve and reload.",
)
@click.option(
    "--private-metrics",
    is_flag=True,
    help="/metrics asks for the API's bearer token too (the probes stay open).",
)
@click.option(
    "--http-head-timeout",
    type=seconds_option_type(3600, low=0.1, low_inclusive=True),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a whole request head (and a body, three times that) "
    "before the listener closes its connection; also how long an idle connection stays.",
)
@click.option(
    "--console-session-hours",
    type=BoundedNumber("hours", 0, 24 * 90),
    default=12.0,
    show_default=True,
    help="How long a sign-in to the web console (/ui/) lasts before its session expires.",
)
@click.option(
    "--http-max-connections",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Connections the listener holds at once (fewer if the file-descriptor limit is low).",
)
@click.option(
    "--queue",
    default=default_queue,
    show_default="$NOTIFIERD_QUEUE or notifierd:requests",
    help="The Redis list producers push requests onto.",
)
@click.option(
    "--consumer-id", help="This replica's name in Redis (default: host and a random suffix)."
)
@click.option(
    "--key-prefix",
    default=lambda: os.environ.get("NOTIFIERD_KEY_PREFIX", "notifierd"),
    show_default="$NOTIFIERD_KEY_PREFIX or notifierd",
    help="Prefix of every other Redis key.",
)
@click.option(
    "--heartbeat-ttl",
    type=seconds_option_type(24 * 3600),
    default=15.0,
    show_default=True,
    help="Seconds without a heartbeat before another replica takes back this one's requests.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help="Default: text on a terminal, else json.",
)
@click.option("--no-watch", is_flag=True, help="Reload only on SIGHUP, not when files change.")
@click.option(
    "--workers",
    type=click.IntRange(1, MAX_WORKERS),
    envvar="NOTIFIERD_WORKERS",
    default=usable_cores,
    show_default="$NOTIFIERD_WORKERS or one per usable core",
    help="Daemon processes to run; they share the queue like replicas. More than one runs them "
    "under a small supervisor; 1 runs the daemon alone in this process.",
)
# Set by the supervisor on the workers it starts (notifierd/supervisor.py), not by people.
@click.option("--worker-slot", type=click.IntRange(0, MAX_WORKERS - 1), hidden=True)
@click.option("--worker-owner", hidden=True)
@click.option("--last-good-config", type=click.Path(file_okay=False), hidden=True)
@click.option(
    "--shutdown-timeout",
    type=seconds_option_type(3600, low_inclusive=True),
    default=10.0,
    show_default=True,
    help="Seconds to finish in-flight requests on SIGTERM before returning them to the queue.",
)
def run(
    config_dir: str,
    dry_run: bool,
    http: str | None,
    insecure_no_auth: bool,
    private_metrics: bool,
    http_head_timeout: float,
    console_session_hours: float,
    http_max_connections: int,
    queue: str,
    consumer_id: str | None,
    key_prefix: str,
    heartbeat_ttl: float,
    log_level: str,
    log_format: str | None,
    no_watch: bool,
    workers: int,
    worker_slot: int | None,
    worker_owner: str | None,
    last_good_config: str | None,
    shutdown_timeout: float,
) -> None:
    """Run the daemon (Redis from $REDIS_URL, Postgres from $POSTGRES_URL)."""
    from notifierd import logs
    from notifierd.config.problems import ConfigInvalid
    from notifierd.options import Options, WorkerSlot

    if worker_slot is not None and worker_owner:
        # A supervisor's worker (it gives both), before anything slow (imports, checks): a
        # supervisor killed meanwhile stops us too.
        from notifierd.supervisor import stop_with_supervisor

        stop_with_supervisor()
    # A reload asked for while still starting must not kill the process (SIGHUP's default);
    # the daemon installs its handler once it runs, and the config it loads is the newest.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    logs.setup(log_level, log_format)
    require_config_dir(config_dir)
    last_good = Path(last_good_config) if last_good_config else None
    check = functools.partial(
        _checked_start, config_dir, last_good, http, insecure_no_auth, private_metrics
    )
    if workers > 1:
        from notifierd.forked import in_child

        checked_redis_url, checked_postgres_url = in_child(check)
    else:
        checked_redis_url, checked_postgres_url = check()
    options = Options(
        config_dir=Path(config_dir),
        redis_url=checked_redis_url,
        postgres_url=checked_postgres_url,
        queue=queue,
        key_prefix=key_prefix,
        heartbeat_ttl=heartbeat_ttl,
        dry_run=dry_run,
        consumer_id=consumer_id,
        http=http,
        insecure_no_auth=insecure_no_auth,
        private_metrics=private_metrics,
        http_head_timeout=http_head_timeout,
        http_body_timeout=http_head_timeout * 3,
        http_max_connections=http_max_connections,
        console_session_seconds=console_session_hours * 3600,
        watch=not no_watch,
        shutdown_timeout=shutdown_timeout,
        worker_slot=(
            WorkerSlot(worker_slot, worker_owner)
            if worker_slot is not None and worker_owner
            else None
        ),
        last_good_config=last_good,
    )

    if workers > 1:
        _supervise(options, workers, log_level, log_format)
    from notifierd.daemon import Daemon  # a daemon's: the supervisor never gets here

    async def main() -> None:
        daemon = Daemon(options)
        daemon.install_signal_handlers()
        await daemon.run()

    try:
        run_async(main(), fast_loop=True)
    except ConfigInvalid as exc:
        _print_problems(config_dir, exc.problems)
        sys.exit(1)
    except OSError as exc:  # e.g. the --http port is taken
        where = f"cannot listen on {http}: " if http else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _checked_start(
    config_dir: str,
    last_good: Path | None,
    http: str | None,
    insecure_no_auth: bool,
    private_metrics: bool,
) -> tuple[str, str]:
    """The service URLs, checked (a malformed one is a usage error); and the listener's
    credentials, before any worker is started: a refused listener must not start anything."""
    checked = redis_url(), postgres_url()
    if http:
        from notifierd.daemon import config_principals
        from notifierd.http.exposure import ListenerRefused
        from notifierd.http.listener import check_listener
        from notifierd.principals import CredentialError
        from notifierd.secrets import SecretsError

        try:
            check_listener(
                http,
                principals=config_principals(Path(config_dir), last_good),
                insecure_no_auth=insecure_no_auth,
                private_metrics=private_metrics,
            )
        except (ListenerRefused, CredentialError, SecretsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--http") from None
    return checked


# Seconds a changed config stays unchanged before the supervisor checks it for its last-good copy.
LAST_GOOD_SETTLE = 5.0


def _config_errors(root: Path, *, nice: int = 0) -> list[Problem]:
    from notifierd.validation import validate_repository

    if nice:
        os.nice(nice)
    return validate_repository(root, with_git=False).errors


def _supervise(options: Options, workers: int, log_level: str, log_format: str | None) -> NoReturn:
    """Start ``workers`` daemon processes and supervise them (notifierd/supervisor.py)."""
    from notifierd.forked import in_child
    from notifierd.lastgood import LastGoodConfig
    from notifierd.supervisor import supervise

    started = False

    def validate(root: Path) -> list[Problem]:
        # Once the workers run, late (LAST_GOOD_SETTLE) and at the lowest priority: they
        # validate a change the moment they see it, for the reload that matters now; this check
        # is only for a worker started again later. Checked at once and at normal priority it
        # took CPU from theirs: change -> active 1.0 s became 1.5-2.2 s with two workers on two
        # cores (bench/README.md, issue 22 §3).
        nice = 19 if started else 0
        return in_child(functools.partial(_config_errors, root, nice=nice))

    # A token of this supervisor's: the workers it starts in a slot, and only they, claim the
    # slot's consumer id (intake/claim.py).
    owner = uuid.uuid4().hex
    config_dir = str(options.config_dir)
    with LastGoodConfig(options.config_dir, validate, settle=LAST_GOOD_SETTLE) as last_good:
        # Refuse a bad config once, not once per worker; a worker started again later falls
        # back to this copy while the files are broken.
        problems = last_good.refresh()
        if problems:
            _print_problems(config_dir, problems)
            sys.exit(1)
        started = True

        def worker_args(i: int) -> list[str]:
            args = [sys.executable, "-m", "notifierd", "run", "--config", config_dir]
            args += ["--queue", options.queue, "--key-prefix", options.key_prefix]
            args += ["--workers", "1", "--heartbeat-ttl", str(options.heartbeat_ttl)]
            args += ["--log-level", log_level]
            args += ["--shutdown-timeout", str(options.shutdown_timeout)]
            args += ["--log-format", log_format] if log_format else []
            args += ["--dry-run"] if options.dry_run else []
            args += ["--no-watch"] if not options.watch else []
            args += ["--worker-slot", str(i), "--worker-owner", owner]
            args += ["--last-good-config", str(last_good.path)]
            if options.consumer_id:
                args += ["--consumer-id", f"{options.consumer_id}-w{i}"]
            if options.http and i == 0:
                args += ["--http", options.http]
                args += ["--insecure-no-auth"] if options.insecure_no_auth else []
                args += ["--private-metrics"] if options.private_metrics else []
                args += ["--http-head-timeout", str(options.http_head_timeout)]
                args += ["--http-max-connections", str(options.http_max_connections)]
                args += ["--console-session-hours", str(options.console_session_seconds / 3600)]
            return args

        status = supervise([worker_args(i) for i in range(workers)], refresh=last_good.refresh)
    sys.exit(status)


def _print_problems(config_dir: str, problems: list[Problem]) -> None:
    print_problems(config_dir, problems)
    click.echo(f"error: the config in {shown_path(config_dir)} is invalid; not starting", err=True)


@click.command()
def migrate() -> None:
    """Apply the database migrations to $POSTGRES_URL (the daemon also does this at start)."""
    from notifierd.cli.progress import progress
    from notifierd.store.db import Store
    from notifierd.store.migrate import migrate as apply

    async def main() -> list[str]:
        # Inside: a failure leaves this block (erasing the spinner) before it is reported.
        with progress("applying migrations"):
            store = await Store.connect(
                postgres_url(), min_size=1, max_size=1, apply_migrations=False
            )
            try:
                async with store.pool.acquire() as conn:
                    return await apply(conn)
            finally:
                await store.close()

    applied = run_async(main())
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")
