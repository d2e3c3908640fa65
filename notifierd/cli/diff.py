"""``notifierd diff``: what a change to the config repository changes, for people and for requests."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from notifierd.cli.args import Moment
from notifierd.cli.common import CONFIG, choose_config_dir, print_problems
from notifierd.cli.report import shown_path

if TYPE_CHECKING:
    from notifierd.diff.oncall import OnCallChange
    from notifierd.diff.replay import Replayed


class _Invalid(Exception):
    """A side of the diff does not validate; its problems are printed once progress is gone."""

    def __init__(self, label: str, root: Path, problems: list[Any]) -> None:
        super().__init__(label)
        self.label, self.root, self.problems = label, root, problems

    def report(self) -> None:
        click.echo(f"{self.label}:", err=True)
        print_problems(self.root, self.problems)
        click.echo(
            f"error: the {self.label} config in {shown_path(self.root)} is invalid", err=True
        )


def _load(root: Path, label: str) -> Any:
    from notifierd.active import Active
    from notifierd.validation import validate_repository

    result = validate_repository(root, with_git=False)
    if result.snapshot is None:
        raise _Invalid(label, root, result.errors)
    return Active.of(result.snapshot, result.compiled)


def _samples(given: Any) -> list[dict[str, Any]]:
    """The requests of --requests, checked as the daemon's intake checks them; exit 2 if bad."""
    if given is None:
        return []
    from notifierd.diff.samples import read_samples

    try:
        text = given.read()
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"not UTF-8 text ({exc.reason})", param_hint="--requests"
        ) from None
    samples, problems = read_samples(text)
    # One error line (a usage error is one line), the other problems indented under it.
    for number, problem in enumerate(problems):
        click.echo(f"error: --requests: {problem}" if number == 0 else f"  {problem}", err=True)
    if problems:
        sys.exit(2)
    return samples


def _requests(old: Path, new: Path, samples: list[dict[str, Any]]) -> list[Replayed]:
    """The config tests' cases (both sides, by case name), then the --requests samples."""
    from notifierd.configtest import load_cases
    from notifierd.diff.replay import Replayed
    from notifierd.diff.samples import sample_labels

    cases: dict[str, Replayed] = {}
    for root in (old, new):  # the config tests of both sides, by case name
        loaded, _ = load_cases(root)
        for case in loaded:
            if case.request is not None:  # a case asserting only who is on call replays nothing
                cases.setdefault(
                    case.name, Replayed(case.name, case.name, dict(case.request), case.at)
                )
    labels = sample_labels(samples, taken=frozenset(cases))
    return [
        *cases.values(),
        *(
            Replayed(label, f"request {position}", sample, None)
            for position, (label, sample) in enumerate(zip(labels, samples, strict=True), start=1)
        ),
    ]


@click.command()
@click.argument("dirs", nargs=-1, type=click.Path(file_okay=False))
@CONFIG
@click.option(
    "--base",
    "base",
    metavar="GIT_REF",
    help="Compare DIR as of this revision with the working tree.",
)
@click.option(
    "--requests",
    "requests_file",
    type=click.File("r"),
    help="More requests to replay: a JSON list, or one JSON object per line.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--at",
    "at",
    type=Moment(),
    help="Compare who is on call for the 14 days from this ISO-8601 time (default: now).",
)
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when anything differs (like git diff --exit-code)."
)
def diff(
    dirs: tuple[str, ...],
    config: str | None,
    base: str | None,
    requests_file: Any,
    fmt: str,
    at: datetime | None,
    exit_code: bool,
) -> None:
    """Semantic diff of two config repositories: `diff OLD NEW` or `diff --base GIT_REF [DIR]`
    (DIR or --config DIR; default: $NOTIFIERD_CONFIG or ./config).

    Beside what changed in routes, templates and the rest, and the requests now handled
    differently, it lists every period of the next 14 days (from --at) in which a schedule has
    someone else on call."""
    from notifierd.diff.oncall import oncall_changes
    from notifierd.diff.replay import replay
    from notifierd.diff.structure import diff_snapshots

    samples = _samples(requests_file)
    with tempfile.TemporaryDirectory(prefix="notifierd-diff-") as tmp:
        if base:
            if len(dirs) > 1:
                raise click.UsageError(
                    "with --base give at most one DIR (default: the config directory)"
                )
            new_root = Path(choose_config_dir(dirs[0] if dirs else None, config))
            from notifierd.diff.gitref import GitRefError, extract

            try:
                old_root = extract(new_root, base, Path(tmp))
            except GitRefError as exc:
                raise click.UsageError(str(exc)) from None
            old_label, new_label = base, "working tree"
        else:
            if len(dirs) != 2 or config is not None:
                raise click.UsageError(
                    "give OLD and NEW directories, or --base GIT_REF [DIR | --config DIR]"
                )
            old_root, new_root = Path(dirs[0]), Path(dirs[1])
            old_label, new_label = shown_path(old_root), shown_path(new_root)
        for root in (old_root, new_root):
            if not os.path.isdir(root):
                raise click.UsageError(f"{shown_path(root)} is not a directory")
        from notifierd.cli.progress import progress

        try:
            with progress(f"comparing {old_label} with {new_label}"):
                old, new = _load(old_root, "old"), _load(new_root, "new")
                changes = diff_snapshots(old.snapshot, new.snapshot)
                requests = _requests(old_root, new_root, samples)
                moved = replay(old, new, requests)
                since = at or datetime.now(UTC)
                handed = oncall_changes(old.snapshot, new.snapshot, since)
        except _Invalid as invalid:
            invalid.report()
            sys.exit(1)
    _emit(fmt, old_label, new_label, changes, moved, len(requests), handed, since)
    if handed or any(c.kind == "schedule" for c in changes):
        _emit_oncall(fmt, handed, since)
    sys.exit(1 if exit_code and (changes or moved or handed) else 0)


def _emit_oncall(fmt: str, handed: list[OnCallChange], since: datetime) -> None:
    """Who is on call instead, after the rest of the diff (JSON has it in its one document)."""
    from notifierd.diff.oncall import HORIZON
    from notifierd.schedules.listing import iso

    if fmt == "json":
        return
    window = f"the {HORIZON.days} days from {iso(since)}"
    if fmt == "markdown":
        click.echo(f"\n**Who is on call, {window}:** {len(handed) or 'no'} change(s)")
        for change in handed:
            click.echo(f"- {change}")
        return
    if not handed:
        click.echo(f"\nwho is on call: no change in {window}")
        return
    click.echo(f"\nwho is on call changes in {window}:")
    for change in handed:
        click.echo(f"  {change}")


def _emit(
    fmt: str,
    old: str,
    new: str,
    changes: list[Any],
    moved: list[Any],
    replayed: int,
    handed: list[OnCallChange],
    since: datetime,
) -> None:
    if fmt == "json":
        from notifierd.diff.oncall import HORIZON
        from notifierd.schedules.listing import iso

        click.echo(
            json.dumps(
                {
                    "old": old,
                    "new": new,
                    "changes": [
                        {"kind": c.kind, "name": c.name, "what": c.what, "details": c.details}
                        for c in changes
                    ],
                    "requests": {
                        "replayed": replayed,
                        "changed": [
                            {"request": m.label, "differences": m.differences} for m in moved
                        ],
                    },
                    "oncall": {
                        "from": iso(since),
                        "until": iso(since + HORIZON),
                        "changed": [change.as_json() for change in handed],
                    },
                },
                indent=2,
            )
        )
        return
    if fmt == "markdown":
        lines = [f"### notifierd config diff: `{old}` → `{new}`", ""]
        if not changes and not moved:
            lines.append("No change in behaviour.")
        if changes:
            lines += ["| | kind | name | details |", "|---|---|---|---|"]
            sign = {"added": "➕", "removed": "➖", "changed": "✏️", "moved": "↕️"}
            for c in changes:
                details = "<br>".join(d.replace("|", "\\|") for d in c.details)
                lines.append(
                    f"| {sign.get(c.what, '')} {c.what} | {c.kind} | `{c.name}` | {details} |"
                )
        lines += [
            "",
            f"**Requests replayed:** {replayed}; **now handled differently:** {len(moved)}",
        ]
        for m in moved:
            lines.append(f"- **{m.label}**: " + "; ".join(m.differences))
        click.echo("\n".join(lines))
        return
    if not changes and not moved:
        click.echo(f"no change in behaviour ({replayed} request(s) replayed)")
        return
    for c in changes:
        click.echo(str(c))
    click.echo(
        f"\n{len(moved)} of {replayed} replayed request(s) handled differently:"
        if replayed
        else "\nno requests replayed (add config tests, or --requests FILE)"
    )
    for m in moved:
        click.echo(f"  {m.label}:")
        for d in m.differences:
            click.echo(f"    {d}")
