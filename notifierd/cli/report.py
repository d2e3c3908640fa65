"""Print config problems for people and CI: ``path:line:col: message``, JSON or GitHub annotations."""

from __future__ import annotations

import json
import os

import click

from notifierd.config.problems import Problem, Severity, count

# GitHub annotation level per severity: an info is a notice, which no workflow fails on.
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as every command prints it: relative to the working directory when it is under
    it (what a person typed, and what CI annotations resolve), else absolute."""
    full = os.path.abspath(path)
    cwd = os.getcwd()
    if full == cwd:
        return "."
    if full.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(full, cwd)
    return full


def display_path(root: str | os.PathLike[str], rel: str) -> str:
    """A file of the config repository at ``root`` (``rel`` is relative to it), as printed."""
    return shown_path(os.path.join(root, rel))


def gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def line(root: str | os.PathLike[str], p: Problem) -> str:
    """``path:line:col: message``, the path as :func:`shown_path` prints it."""
    return p.located(display_path(root, p.path))


def emit_lines(root: str, problems: list[Problem]) -> None:
    for p in problems:
        click.echo(line(root, p))


def emit_github(root: str, problems: list[Problem], title: str) -> None:
    for p in problems:
        level = _GITHUB_LEVEL[p.severity]
        file = gh_escape(display_path(root, p.path), prop=True)
        click.echo(
            f"::{level} file={file},line={p.line},col={p.column},title={title}::"
            f"{gh_escape(p.message)}"
        )


def counts(problems: list[Problem]) -> str:
    """``2 error(s), 1 warning(s), 0 info``: every severity, also the ones with none."""
    return (
        f"{count(problems, Severity.ERROR)} error(s), "
        f"{count(problems, Severity.WARNING)} warning(s), {count(problems, Severity.INFO)} info"
    )


def emit_summary(root: str, verdict: str, problems: list[Problem], n_files: int) -> None:
    """The last line, on stderr: ``config: valid: 0 error(s), 0 warning(s), 1 info in 9 file(s)``."""
    click.echo(f"{shown_path(root)}: {verdict}: {counts(problems)} in {n_files} file(s)", err=True)


def emit_json(root: str, problems: list[Problem], **fields: object) -> None:
    """One JSON document: counts by severity, ``fields``, and every problem located."""
    errors = count(problems, Severity.ERROR)
    click.echo(
        json.dumps(
            {
                "valid": errors == 0,
                "errors": errors,
                "warnings": count(problems, Severity.WARNING),
                "infos": count(problems, Severity.INFO),
                **fields,
                "problems": [
                    {
                        "path": display_path(root, p.path),
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
