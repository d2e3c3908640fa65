"""Helpers shared by CLI commands: the config directory, loading the config, printing JSON,
failing cleanly."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from notifierd.cli.report import line, shown_path
from notifierd.config.problems import Problem

if TYPE_CHECKING:  # the model imports the request schema; `run`'s supervisor needs neither
    from notifierd.config.model import Snapshot

CONFIG_OPTION_HELP = "Config repository directory [default: $NOTIFIERD_CONFIG or ./config]."

Command = Callable[..., None]

# The one definition of the option; commands take it through config_option (diff, whose
# directories are its own, reads it raw).
CONFIG = click.option(
    "--config",
    "config",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help=CONFIG_OPTION_HELP,
)


def default_config_dir() -> str:
    return os.environ.get("NOTIFIERD_CONFIG", "config")


def config_option(*, positional: bool = False) -> Callable[[Command], Command]:
    """``--config DIR`` for a command that reads the config; the command gets ``config_dir``.

    ``positional``: the command also takes ``[DIR]`` (validate, lint, test), as it always has.
    Naming two different directories is a usage error (exit 2).
    """

    def decorate(fn: Command) -> Command:
        @functools.wraps(fn)
        def command(
            *args: object, config: str | None, directory: str | None = None, **kwargs: object
        ) -> None:
            fn(*args, config_dir=choose_config_dir(directory, config), **kwargs)

        with_option = CONFIG(command)
        if not positional:
            return with_option
        return click.argument(
            "directory", required=False, metavar="[DIR]", type=click.Path(file_okay=False)
        )(with_option)

    return decorate


def choose_config_dir(directory: str | None, config: str | None) -> str:
    """The config directory from ``[DIR]`` or ``--config DIR``, else the default."""
    if (
        directory is not None
        and config is not None
        and os.path.abspath(directory) != os.path.abspath(config)
    ):
        raise click.UsageError(
            f"two config directories: {directory!r} and --config {config!r}; give one"
        )
    return directory or config or default_config_dir()


def require_config_dir(root: str | Path) -> None:
    """Exit 2 with one line when the config directory is missing: a usage error."""
    if not os.path.isdir(root):
        fail(
            f"config directory {shown_path(root)} does not exist "
            "(use --config DIR or set $NOTIFIERD_CONFIG)",
            2,
        )


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load_or_exit(config_dir: str | Path) -> Snapshot:
    """Load and validate the config; on problems print them as ``path:line:col`` and exit 1."""
    from notifierd.config.problems import ConfigInvalid
    from notifierd.validation import load_snapshot

    require_config_dir(config_dir)
    try:
        return load_snapshot(Path(config_dir))
    except ConfigInvalid as exc:
        print_problems(config_dir, exc.problems)
        shown = shown_path(config_dir)
        fail(f"the config in {shown} is invalid; run `notifierd validate {shown}` for details")


def print_problems(config_dir: str | Path, problems: Iterable[Problem]) -> None:
    """The errors of an invalid config on stderr, one ``path:line:col: message`` each."""
    for problem in problems:
        if problem.severity == "error":
            click.echo(line(config_dir, problem), err=True)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))
