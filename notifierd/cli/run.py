"""``notifierd run`` (the daemon) and ``notifierd migrate``."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from notifierd.cli.common import CONFIG_OPTION_HELP, default_config_dir
from notifierd.cli.services import default_queue, postgres_url, redis_url, run_async


@click.command()
@click.option(
    "--config",
    "config_dir",
    default=default_config_dir,
    type=click.Path(file_okay=False),
    help=CONFIG_OPTION_HELP,
)
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
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send a whole request head (and a body, three times that) "
    "before the listener closes its connection; also how long an idle connection stays.",
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
    default=15.0,
    show_default=True,
    help="Seconds without a heartbeat before another replica takes back this one's requests.",
)
@click.option("--log-level", default="INFO", show_default=True)
@click.option(
    "--log-format",
    type=click.Choice(["json", "text"]),
    help="Default: text on a terminal, else json.",
)
@click.option("--no-watch", is_flag=True, help="Reload only on SIGHUP, not when files change.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: int(os.environ.get("NOTIFIERD_WORKERS", "1")),
    show_default="$NOTIFIERD_WORKERS or 1",
    help="Daemon processes to run (one per core); they share the queue like replicas.",
)
@click.option(
    "--shutdown-timeout",
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
    http_max_connections: int,
    queue: str,
    consumer_id: str | None,
    key_prefix: str,
    heartbeat_ttl: float,
    log_level: str,
    log_format: str | None,
    no_watch: bool,
    workers: int,
    shutdown_timeout: float,
) -> None:
    """Run the daemon (Redis from $REDIS_URL, Postgres from $POSTGRES_URL)."""
    from notifierd import logs
    from notifierd.config.problems import ConfigInvalid
    from notifierd.daemon import Daemon, Options

    # A reload asked for while still starting must not kill the process (SIGHUP's default);
    # the daemon installs its handler once it runs, and the config it loads is the newest.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    logs.setup(log_level, log_format)
    options = Options(
        config_dir=Path(config_dir),
        redis_url=redis_url(),
        postgres_url=postgres_url(),
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
        watch=not no_watch,
        shutdown_timeout=shutdown_timeout,
    )

    async def main() -> None:
        daemon = Daemon(options)
        daemon.install_signal_handlers()
        await daemon.run()

    if http:
        from notifierd.daemon import config_principals
        from notifierd.http import check_listener
        from notifierd.http.exposure import ListenerRefused
        from notifierd.principals import CredentialError
        from notifierd.secrets import SecretsError

        # Here, before any worker is started: a refused listener must not start anything.
        try:
            check_listener(
                http,
                principals=config_principals(Path(config_dir)),
                insecure_no_auth=insecure_no_auth,
                private_metrics=private_metrics,
            )
        except (ListenerRefused, CredentialError, SecretsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--http") from None
    if not Path(config_dir).is_dir():
        click.echo(
            f"error: config directory {config_dir!r} does not exist (use --config DIR)", err=True
        )
        sys.exit(2)
    if workers > 1:
        from notifierd.active import ConfigHolder
        from notifierd.supervisor import supervise

        try:
            ConfigHolder.load(Path(config_dir))  # refuse a bad config once, not once per worker
        except ConfigInvalid as exc:
            _print_problems(config_dir, exc)
            sys.exit(1)

        def worker_args(i: int) -> list[str]:
            args = [sys.executable, "-m", "notifierd", "run", "--config", config_dir]
            args += ["--queue", queue, "--key-prefix", key_prefix, "--workers", "1"]
            args += ["--heartbeat-ttl", str(heartbeat_ttl), "--log-level", log_level]
            args += ["--shutdown-timeout", str(shutdown_timeout)]
            args += ["--log-format", log_format] if log_format else []
            args += ["--dry-run"] if dry_run else []
            args += ["--no-watch"] if no_watch else []
            args += ["--consumer-id", f"{consumer_id}-w{i}"] if consumer_id else []
            if http and i == 0:
                args += ["--http", http]
                args += ["--insecure-no-auth"] if insecure_no_auth else []
                args += ["--private-metrics"] if private_metrics else []
                args += ["--http-head-timeout", str(http_head_timeout)]
                args += ["--http-max-connections", str(http_max_connections)]
            return args

        sys.exit(supervise([worker_args(i) for i in range(workers)]))
    try:
        run_async(main(), fast_loop=True)
    except ConfigInvalid as exc:
        _print_problems(config_dir, exc)
        sys.exit(1)
    except OSError as exc:  # e.g. the --http port is taken
        where = f"cannot listen on {http}: " if http else ""
        click.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


def _print_problems(config_dir: str, exc: Any) -> None:
    for problem in exc.problems:
        if problem.severity == "error":
            click.echo(
                f"{Path(config_dir) / problem.path}:{problem.line}:{problem.column}: {problem.message}",
                err=True,
            )
    click.echo(f"error: the config in {config_dir} is invalid; not starting", err=True)


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
