"""``notifierd validate``: every problem of a config repository as ``path:line:col: message``."""

from __future__ import annotations

import gc
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from notifierd.cli.common import config_option, require_config_dir
from notifierd.cli.report import emit_github, emit_json, emit_lines, emit_summary, shown_path
from notifierd.config.problems import Problem, fails

if TYPE_CHECKING:
    from notifierd.config.model import Snapshot


def _verdict(problems: list[Problem], strict: bool) -> str:
    if fails(problems, strict=False):
        return "invalid"
    return (
        "valid, but --strict fails on its warnings" if fails(problems, strict=strict) else "valid"
    )


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
    help="Also run lint (its findings follow validate's); fail on warnings too. Infos never fail.",
)
def validate(config_dir: str, fmt: str, strict: bool) -> None:
    """Validate the config repository DIR or --config DIR (default: $NOTIFIERD_CONFIG or
    ./config).

    Exit 0 when valid, 1 when not (any error; with --strict also any warning), 2 on usage
    errors. Infos never fail. Needs no Redis, Postgres or network.
    """
    root = config_dir
    require_config_dir(root)
    # What validate allocates lives until it ends (the modules it imports, the parsed files,
    # the compiled templates, the snapshot), so the cyclic collector's passes over it find next
    # to nothing (some 4,600 objects in a run over the 1,000-route benchmark repository) and
    # cost a tenth of the CPU. A one-shot command: the process ends soon after.
    collecting = gc.isenabled()
    gc.disable()
    from notifierd.cli.progress import progress
    from notifierd.validation import validate_repository

    try:
        with progress(f"validating {shown_path(root)}"):
            result = validate_repository(root, with_git=False, remember=True, fork=True)
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while validating {shown_path(root)}: "
            f"{type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        sys.exit(1)
    finally:
        # Frozen first: enabled again, the collector would at once walk every object allocated
        # meanwhile (all still young: 80 ms), and Python's last collection at exit too (40 ms).
        gc.freeze()
        if collecting:
            gc.enable()
    problems = result.problems
    if strict and result.snapshot is not None:
        # After validate's own problems, in lint's order: one report read top-down.
        problems = [*problems, *_lint_findings(root, result.snapshot)]
    failed = fails(problems, strict=strict)
    if fmt == "json":
        snapshot_id = result.snapshot.identity.content_hash if result.snapshot else None
        emit_json(root, problems, files=len(result.files), snapshot=snapshot_id)
    elif fmt == "github":
        emit_github(root, problems, "notifierd validate")
        emit_summary(root, _verdict(problems, strict), problems, len(result.files))
    else:
        emit_lines(root, problems)
        emit_summary(root, _verdict(problems, strict), problems, len(result.files))
    sys.exit(1 if failed else 0)


def _lint_findings(root: str, snapshot: Snapshot) -> list[Problem]:
    """Lint's findings for --strict, as of now: its warnings fail, its infos are shown only."""
    from notifierd.config.lint import lint_snapshot

    return lint_snapshot(root, snapshot, now=datetime.now(UTC))
