"""``notifierd lint``: what is valid but almost surely wrong in a config repository."""

from __future__ import annotations

import sys

import click

from notifierd.cli.common import config_option, require_config_dir
from notifierd.cli.report import emit_github, emit_json, emit_lines, shown_path


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
def lint(config_dir: str, fmt: str) -> None:
    """Lint the config repository DIR or --config DIR (default: $NOTIFIERD_CONFIG or ./config).

    Reports unreachable routes, unused channels, policies, templates and template versions,
    ended suppressions and escalation levels out of order. Exit 0 when clean, 1 when there
    is any finding (or the config is invalid: validate's errors are printed), 2 on usage errors.
    """
    root = config_dir
    require_config_dir(root)
    shown = shown_path(root)
    from notifierd.validation import lint_repository

    try:
        result = lint_repository(root)
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while linting {shown}: {type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        sys.exit(1)
    validation = result.validation
    if validation.snapshot is None:
        problems = validation.problems
        summary = f"{shown}: invalid, {len(validation.errors)} error(s); fix them before linting"
    else:
        problems = result.findings
        summary = f"{shown}: {len(problems)} finding(s)" if problems else f"{shown}: clean"
    n_files = len(validation.files)
    if fmt == "json":
        emit_json(root, problems, files=n_files, findings=len(result.findings))
    elif fmt == "github":
        emit_github(root, problems, "notifierd lint")
    else:
        emit_lines(root, problems)
    if fmt != "json":
        click.echo(f"{summary} ({n_files} file(s))", err=True)
    sys.exit(1 if problems else 0)
