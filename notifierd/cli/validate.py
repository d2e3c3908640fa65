"""``notifierd validate``: every problem of a config repository as ``path:line:col: message``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from notifierd.cli.common import config_option, require_config_dir
from notifierd.cli.report import emit_github, emit_json, emit_lines, shown_path
from notifierd.config.problems import Problem

if TYPE_CHECKING:
    from notifierd.config.model import Snapshot


def _emit_text(root: str, problems: list[Problem], n_files: int) -> None:
    emit_lines(root, problems)
    _summary(root, problems, n_files)


def _summary(root: str, problems: list[Problem], n_files: int) -> None:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    shown = shown_path(root)
    if errors:
        click.echo(
            f"{shown}: {errors} error(s), {warnings} warning(s) in {n_files} file(s)", err=True
        )
    else:
        extra = f", {warnings} warning(s)" if warnings else ""
        click.echo(f"{shown}: valid ({n_files} file(s){extra})", err=True)


@click.command()
@config_option(positional=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Human text, JSON for scripts, or GitHub workflow annotations.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also run lint; treat warnings as errors (exit 1 when there are any).",
)
def validate(config_dir: str, fmt: str, strict: bool) -> None:
    """Validate the config repository DIR or --config DIR (default: $NOTIFIERD_CONFIG or
    ./config).

    Exit 0 when valid, 1 when not, 2 on usage errors. Needs no Redis, Postgres or network.
    """
    root = config_dir
    require_config_dir(root)
    from notifierd.cli.progress import progress
    from notifierd.validation import validate_repository

    try:
        with progress(f"validating {shown_path(root)}"):
            result = validate_repository(root, with_git=False, remember=True)
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while validating {shown_path(root)}: "
            f"{type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        sys.exit(1)
    problems = result.problems
    if strict and result.snapshot is not None:
        problems = sorted([*problems, *_lint_warnings(root, result.snapshot)])
    if fmt == "json":
        snapshot_id = result.snapshot.identity.content_hash if result.snapshot else None
        emit_json(root, problems, files=len(result.files), snapshot=snapshot_id)
    elif fmt == "github":
        emit_github(root, problems, "notifierd validate")
        _summary(root, problems, len(result.files))
    else:
        _emit_text(root, problems, len(result.files))
    failed = bool(result.errors) or (strict and any(p.severity == "warning" for p in problems))
    sys.exit(1 if failed else 0)


def _lint_warnings(root: str, snapshot: Snapshot) -> list[Problem]:
    """Lint's warnings for --strict; its info-level hints (unused templates) do not fail CI."""
    from notifierd.config.lint import lint_snapshot

    return [p for p in lint_snapshot(root, snapshot) if p.severity == "warning"]
