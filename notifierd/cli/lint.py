"""``notifierd lint``: what is valid but almost surely wrong in a config repository."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from notifierd.cli.args import Moment
from notifierd.cli.common import config_option, require_config_dir
from notifierd.cli.report import emit_github, emit_json, emit_lines, emit_summary, shown_path
from notifierd.config.problems import fails


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
    "--at",
    "at",
    type=Moment(),
    help="Judge the findings that depend on the date (ended suppression windows) as of this "
    "ISO-8601 time instead of now; naive means UTC.",
)
def lint(config_dir: str, fmt: str, at: datetime | None) -> None:
    """Lint the config repository DIR or --config DIR (default: $NOTIFIERD_CONFIG or ./config).

    Reports unreachable routes, unused channels, policies, templates and template versions,
    ended suppressions and escalation levels out of order, and validate's own warnings. Exit 0
    when there are only infos or nothing, 1 on any warning or error (an invalid config: its
    errors are printed), 2 on usage errors. Infos, among them every finding that depends on the
    date, never fail.
    """
    root = config_dir
    require_config_dir(root)
    shown = shown_path(root)
    from notifierd.validation import lint_repository

    try:
        result = lint_repository(root, now=at or datetime.now(UTC))
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while linting {shown}: {type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        sys.exit(1)
    validation = result.validation
    problems = result.problems
    failed = fails(problems, strict=True)
    if validation.snapshot is None:
        verdict = "invalid (fix its errors before linting)"
    else:
        verdict = "not clean" if failed else "clean"
    n_files = len(validation.files)
    if fmt == "json":
        emit_json(root, problems, files=n_files, findings=len(result.findings))
    elif fmt == "github":
        emit_github(root, problems, "notifierd lint")
    else:
        emit_lines(root, problems)
    if fmt != "json":
        emit_summary(root, verdict, problems, n_files)
    sys.exit(1 if failed else 0)
