"""The ``notifierd`` command group; each subcommand lives in its own module."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from notifierd import __version__
from notifierd.errors import ServiceUnavailable, mask_url

# A group named without a subcommand shows its help (click 8.2 and later raise this for it).
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    kind for kind in [getattr(click.exceptions, "NoArgsIsHelpError", None)] if kind is not None
)
# Set to 1 to see the traceback behind "this is a bug" instead of the one line.
DEBUG_ENV = "NOTIFIERD_DEBUG"


class _Cli(click.Group):
    """The group, run so that whatever goes wrong ends as one ``error:`` line and exit 0, 1 or 2.

    Usage errors (click's, and the option types in ``cli/args.py``) are one line, exit 2; a
    service lost mid-command is one line naming it, exit 1; anything else is a bug, reported
    as one line asking for a report, exit 1 — never a traceback.
    """

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            if isinstance(exc, _NO_ARGS_IS_HELP):  # `notifierd` or `notifierd routes` alone
                exc.show()
                sys.exit(exc.exit_code)
            _exit(_usage_line(exc), exc.exit_code)
        except click.Abort:
            _exit("interrupted", 1)
        except ServiceUnavailable as exc:
            _exit(str(exc), 1)
        except Exception as exc:
            lost = _lost_service(exc)
            if lost is not None:
                _exit(lost, 1)
            if os.environ.get(DEBUG_ENV) == "1":
                raise
            reason = " ".join(str(exc).split())
            _exit(
                f"notifierd failed: {type(exc).__name__}: {reason} "
                "(this is a bug; please report it)",
                1,
            )
        # standalone_mode=False returns the code of ctx.exit(code) (or the command's value:
        # commands return None).
        sys.exit(result if type(result) is int else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return self.commands.get(cmd_name)


def _exit(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _usage_line(exc: click.ClickException) -> str:
    """Click's error as one line: its message, and where help is for a usage error."""
    from notifierd.cli.args import BadServiceUrl

    message = " ".join(exc.format_message().split()).rstrip(".")
    if message[1:2].islower():  # click's "Invalid value ...", not "POSTGRES_URL ..."
        message = message[:1].lower() + message[1:]
    if isinstance(exc, click.UsageError) and not isinstance(exc, BadServiceUrl) and exc.ctx:
        message += f" (see '{exc.ctx.command_path} --help')"
    return message


def _lost_service(exc: BaseException) -> str | None:
    """One line for Redis or Postgres lost in the middle of a command (exit 1), else None.

    Only modules a command imported can have raised their errors: nothing is imported here."""
    from notifierd.defaults import DEFAULT_POSTGRES_URL, DEFAULT_REDIS_URL

    redis = sys.modules.get("redis.exceptions")
    if redis is not None and isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
        return f"lost the connection to Redis at {mask_url(url)}: {exc}"
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is not None and isinstance(
        exc,
        asyncpg.PostgresConnectionError  # refused, reset, closed mid-query
        | asyncpg.AdminShutdownError  # the server stopping, the database dropped
        | asyncpg.CannotConnectNowError,  # starting up or shutting down
    ):
        url = os.environ.get("POSTGRES_URL", DEFAULT_POSTGRES_URL)
        return f"lost the connection to PostgreSQL at {mask_url(url)}: {exc}"
    return None


@click.group(name="notifierd", cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notifierd")
def cli() -> None:
    """notifierd — declarative, GitOps notification daemon."""


# Each command by name, from its module: a command's module is imported only when that command
# runs (or help lists them all), so `notifierd validate` in CI does not pay for Redis, asyncpg,
# aiohttp and slack_sdk, which the daemon's commands import (about half a cold validate).
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("notifierd.cli.validate", "validate"),
    "test": ("notifierd.cli.test", "test"),
    "lint": ("notifierd.cli.lint", "lint"),
    "diff": ("notifierd.cli.diff", "diff"),
    "routes": ("notifierd.cli.routes", "routes"),
    "template": ("notifierd.cli.template", "template"),
    "run": ("notifierd.cli.run", "run"),
    "migrate": ("notifierd.cli.run", "migrate"),
    "send": ("notifierd.cli.send", "send"),
    "status": ("notifierd.cli.status", "status"),
    "history": ("notifierd.cli.status", "history"),
    "metrics": ("notifierd.cli.status", "metrics"),
    "dlq": ("notifierd.cli.dlq", "dlq"),
    "channel": ("notifierd.cli.channel", "channel"),
    "alerts": ("notifierd.cli.alerts", "alerts"),
    "ratelimit": ("notifierd.cli.ratelimit", "ratelimit"),
    "oncall": ("notifierd.cli.oncall", "oncall"),
    "heartbeats": ("notifierd.cli.heartbeats", "heartbeats"),
    "audit": ("notifierd.cli.audit", "audit"),
    "silence": ("notifierd.cli.runtime", "silence"),
    "override": ("notifierd.cli.runtime", "override"),
}


def _load(name: str) -> click.Command:
    module, attribute = _COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
        raise TypeError(f"{module}.{attribute} is not a click command")
    return command


def _register() -> None:
    """Load every command now (tests that drive ``cli`` with click's runner call this)."""
    for name in _COMMANDS:
        if name not in cli.commands:
            cli.add_command(_load(name), name)


def main() -> None:
    cli(prog_name="notifierd")
