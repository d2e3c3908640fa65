"""Helpers shared by CLI commands: loading the config, printing JSON, failing cleanly."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from notifierd.config.model import Snapshot

CONFIG_OPTION_HELP = "Config repository directory (default: $NOTIFIERD_CONFIG or ./config)."


def default_config_dir() -> str:
    return os.environ.get("NOTIFIERD_CONFIG", "config")


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load_or_exit(config_dir: str | Path) -> Snapshot:
    """Load and validate the config; on problems print them as ``path:line:col`` and exit 1."""
    from notifierd.config.problems import ConfigInvalid
    from notifierd.validation import load_snapshot

    root = Path(config_dir)
    # os.path.isdir, not Path.is_dir: a name too long for the system is "no", not an OSError.
    if not os.path.isdir(root):
        fail(f"config directory {str(root)!r} does not exist (use --config DIR)", 2)
    try:
        return load_snapshot(root)
    except ConfigInvalid as exc:
        for problem in exc.problems:
            if problem.severity == "error":
                click.echo(str(problem), err=True)
        fail(f"the config in {root} is invalid; run `notifierd validate {root}` for details")


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))
