"""``notifierd validate``: every problem of a config repository as ``path:line:col: message``."""

from __future__ import annotations

import json
import os
import sys

import click

from notifierd.cli.common import default_config_dir
from notifierd.config.problems import Problem


def _display_path(root: str, rel: str) -> str:
    return os.path.normpath(os.path.join(root, rel))


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _emit_text(root: str, problems: list[Problem], n_files: int) -> None:
    for p in problems:
        tag = "" if p.severity == "error" else "warning: "
        click.echo(f"{_display_path(root, p.path)}:{p.line}:{p.column}: {tag}{p.message}")
    _summary(root, problems, n_files)


def _summary(root: str, problems: list[Problem], n_files: int) -> None:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        click.echo(
            f"{root}: {errors} error(s), {warnings} warning(s) in {n_files} file(s)", err=True
        )
    else:
        extra = f", {warnings} warning(s)" if warnings else ""
        click.echo(f"{root}: valid ({n_files} file(s){extra})", err=True)


def _emit_github(root: str, problems: list[Problem]) -> None:
    for p in problems:
        level = "error" if p.severity == "error" else "warning"
        file = _gh_escape(_display_path(root, p.path), prop=True)
        click.echo(
            f"::{level} file={file},line={p.line},col={p.column},title=notifierd validate::"
            f"{_gh_escape(p.message)}"
        )


def _emit_json(root: str, problems: list[Problem], n_files: int, snapshot_id: str | None) -> None:
    errors = sum(p.severity == "error" for p in problems)
    click.echo(
        json.dumps(
            {
                "valid": errors == 0,
                "errors": errors,
                "warnings": len(problems) - errors,
                "files": n_files,
                "snapshot": snapshot_id,
                "problems": [
                    {
                        "path": _display_path(root, p.path),
                        "line": p.line,
                        "column": p.column,
                        "severity": p.severity,
                        "code": p.code,
                        "message": p.message,
                    }
                    for p in problems
                ],
            },
            indent=2,
        )
    )


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Human text, JSON for scripts, or GitHub workflow annotations.",
)
@click.option(
    "--strict", is_flag=True, help="Treat warnings as errors (exit 1 when there are any)."
)
def validate(directory: str | None, fmt: str, strict: bool) -> None:
    """Validate a config repository (default: $NOTIFIERD_CONFIG or ./config).

    Exit 0 when valid, 1 when not, 2 on usage errors. Needs no Redis, Postgres or network.
    """
    root = directory or default_config_dir()
    if not os.path.isdir(root):
        click.echo(f"error: config directory {root!r} does not exist", err=True)
        sys.exit(2)
    from notifierd.config.loader import validate_repository

    try:
        result = validate_repository(root, with_git=False)
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while validating {root}: {type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        sys.exit(1)
    problems = result.problems
    if fmt == "json":
        snapshot_id = result.snapshot.identity.content_hash if result.snapshot else None
        _emit_json(root, problems, len(result.files), snapshot_id)
    elif fmt == "github":
        _emit_github(root, problems)
        _summary(root, problems, len(result.files))
    else:
        _emit_text(root, problems, len(result.files))
    failed = bool(result.errors) or (strict and bool(result.warnings))
    sys.exit(1 if failed else 0)
