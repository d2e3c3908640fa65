"""``notifierd diff``: what a change to the config repository changes, for people and for requests."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click

from notifierd.cli.args import parse_json
from notifierd.cli.common import default_config_dir


class _Invalid(Exception):
    """A side of the diff does not validate; its problems are printed once progress is gone."""

    def __init__(self, label: str, root: Path, problems: list[Any]) -> None:
        super().__init__(label)
        self.label, self.root, self.problems = label, root, problems

    def report(self) -> None:
        for problem in self.problems:
            click.echo(
                f"{self.label}: {self.root / problem.path}:{problem.line}:{problem.column}: "
                f"{problem.message}",
                err=True,
            )
        click.echo(f"error: the {self.label} config in {self.root} is invalid", err=True)


def _load(root: Path, label: str) -> Any:
    from notifierd.active import Active
    from notifierd.validation import validate_repository

    result = validate_repository(root, with_git=False)
    if result.snapshot is None:
        raise _Invalid(label, root, result.errors)
    return Active.of(result.snapshot, result.compiled)


def _requests(
    old: Path, new: Path, extra: Any
) -> list[tuple[str, dict[str, Any], datetime | None]]:
    """The config tests' requests (both sides, by case name) and any given with --requests."""
    out: dict[str, tuple[str, dict[str, Any], datetime | None]] = {}
    from notifierd.configtest import load_cases

    for root in (old, new):  # the config tests of both sides, by case name
        cases, _ = load_cases(root)
        for case in cases:
            out.setdefault(case.name, (case.name, dict(case.request), case.at))
    if extra is not None:
        items = _read_requests(extra)
        for i, item in enumerate(items, start=1):
            out[f"request {i}"] = (f"request {i}", item, None)
    return list(out.values())


def _read_requests(source: IO[str]) -> list[dict[str, Any]]:
    """``--requests``: a JSON list of request objects, one object, or one object per line."""
    name = getattr(source, "name", "--requests")
    try:
        text = source.read()
    except UnicodeDecodeError as exc:
        raise click.BadParameter(
            f"{name}: not UTF-8 text ({exc.reason})", param_hint="--requests"
        ) from None
    try:
        data = parse_json(text)
        items = data if isinstance(data, list) else [data]
        where = [f"{name}: item {i}" for i in range(1, len(items) + 1)]
    except json.JSONDecodeError:
        items, where = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(parse_json(line))
            except json.JSONDecodeError as exc:
                raise click.BadParameter(
                    f"{name}:{number}: not valid JSON ({exc.msg}); give a JSON list of "
                    "requests or one JSON object per line",
                    param_hint="--requests",
                ) from None
            where.append(f"{name}:{number}")
    for place, item in zip(where, items, strict=True):
        if not isinstance(item, dict):
            raise click.BadParameter(
                f"{place}: a request is a JSON object, not {type(item).__name__}",
                param_hint="--requests",
            )
    return items


@click.command()
@click.argument("dirs", nargs=-1, type=click.Path(file_okay=False))
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
    "--exit-code", is_flag=True, help="Exit 1 when anything differs (like git diff --exit-code)."
)
def diff(
    dirs: tuple[str, ...], base: str | None, requests_file: Any, fmt: str, exit_code: bool
) -> None:
    """Semantic diff of two config repositories: `diff OLD NEW` or `diff --base GIT_REF [DIR]`."""
    from notifierd.diff.replay import replay
    from notifierd.diff.structure import diff_snapshots

    with tempfile.TemporaryDirectory(prefix="notifierd-diff-") as tmp:
        if base:
            if len(dirs) > 1:
                raise click.UsageError(
                    "with --base give at most one DIR (default: the config directory)"
                )
            new_root = Path(dirs[0] if dirs else default_config_dir())
            from notifierd.diff.gitref import GitRefError, extract

            try:
                old_root = extract(new_root, base, Path(tmp))
            except GitRefError as exc:
                raise click.UsageError(str(exc)) from None
            old_label, new_label = base, "working tree"
        else:
            if len(dirs) != 2:
                raise click.UsageError("give OLD and NEW directories, or --base GIT_REF [DIR]")
            old_root, new_root = Path(dirs[0]), Path(dirs[1])
            old_label, new_label = str(old_root), str(new_root)
        for root in (old_root, new_root):
            if not os.path.isdir(root):
                raise click.UsageError(f"{root} is not a directory")
        from notifierd.cli.progress import progress

        try:
            with progress(f"comparing {old_label} with {new_label}"):
                old, new = _load(old_root, "old"), _load(new_root, "new")
                changes = diff_snapshots(old.snapshot, new.snapshot)
                requests = _requests(old_root, new_root, requests_file)
                moved = replay(old, new, requests)
        except _Invalid as invalid:
            invalid.report()
            sys.exit(1)
    _emit(fmt, old_label, new_label, changes, moved, len(requests))
    sys.exit(1 if exit_code and (changes or moved) else 0)


def _emit(
    fmt: str, old: str, new: str, changes: list[Any], moved: list[Any], replayed: int
) -> None:
    if fmt == "json":
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
