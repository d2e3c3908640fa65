"""``notifierd test``: run the config tests in ``<config>/tests/*.yaml`` like a test runner."""

from __future__ import annotations

import json
import sys
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import click

from notifierd.cli.common import config_option, require_config_dir
from notifierd.cli.progress import progress
from notifierd.cli.report import display_path, emit_github, emit_lines, gh_escape, shown_path
from notifierd.cli.report import line as problem_line
from notifierd.config.problems import Problem

if TYPE_CHECKING:
    from notifierd.configtest import CaseResult


def _where(root: str, path: str, line: int, column: int) -> str:
    return f"{display_path(root, path)}:{line}:{column}"


def _failure_lines(result: CaseResult) -> list[tuple[str, int, int, str]]:
    """(path, line, column, message) for each failure of one case result."""
    case = result.case
    if result.error is not None:
        return [(case.path, case.line, 1, f"case '{case.name}': cannot run: {result.error}")]
    return [
        (case.path, f.line, f.column, f"case '{case.name}': {f.message}") for f in result.failures
    ]


def _emit_results_text(root: str, results: list[CaseResult], elapsed: float) -> None:
    for r in results:
        mark = "✓" if r.passed else "✗"
        click.echo(f"{mark} {r.case.name} ({display_path(root, r.case.path)}:{r.case.line})")
        for path, line, col, message in _failure_lines(r):
            click.echo(f"    {_where(root, path, line, col)}: {message}")
    passed = sum(r.passed for r in results)
    click.echo(f"{passed} passed, {len(results) - passed} failed in {elapsed:.2f}s")


def _emit_results_json(root: str, results: list[CaseResult], problems: list[Problem]) -> None:
    passed = sum(r.passed for r in results)
    click.echo(
        json.dumps(
            {
                "passed": passed,
                "failed": len(results) - passed,
                "problems": [
                    {
                        "path": display_path(root, p.path),
                        "line": p.line,
                        "column": p.column,
                        "severity": p.severity,
                        "message": p.message,
                    }
                    for p in problems
                ],
                "cases": [
                    {
                        "name": r.case.name,
                        "path": display_path(root, r.case.path),
                        "line": r.case.line,
                        "status": r.status,
                        "error": r.error,
                        "failures": [
                            {
                                "key": f.key,
                                "line": f.line,
                                "column": f.column,
                                "message": f.message,
                                "expected": f.expected,
                                "actual": f.actual,
                            }
                            for f in r.failures
                        ],
                    }
                    for r in results
                ],
            },
            indent=2,
            default=str,
        )
    )


def _emit_results_github(root: str, results: list[CaseResult]) -> None:
    for r in results:
        for path, line, col, message in _failure_lines(r):
            file = gh_escape(display_path(root, path), prop=True)
            click.echo(
                f"::error file={file},line={line},col={col},title=notifierd test::"
                f"{gh_escape(message)}"
            )
    passed = sum(r.passed for r in results)
    click.echo(f"{passed} passed, {len(results) - passed} failed", err=True)


def junit_xml(root: str, results: list[CaseResult], problems: list[Problem], elapsed: float) -> str:
    """JUnit XML: one testcase per case; invalid config or case files as one errored testcase."""
    failed = sum(not r.passed for r in results)
    errors = 1 if problems else 0
    suite = ET.Element(
        "testsuite",
        name="notifierd test",
        tests=str(len(results) + errors),
        failures=str(failed),
        errors=str(errors),
        time=f"{elapsed:.3f}",
    )
    if problems:
        case = ET.SubElement(suite, "testcase", classname="notifierd.validate", name="config")
        err = ET.SubElement(case, "error", message=f"{len(problems)} problem(s)")
        err.text = "\n".join(problem_line(root, p) for p in problems)
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=display_path(root, r.case.path),
            name=r.case.name,
            file=display_path(root, r.case.path),
            line=str(r.case.line),
        )
        lines = _failure_lines(r)
        if lines:
            fail = ET.SubElement(case, "failure", message=lines[0][3])
            fail.text = "\n".join(f"{_where(root, p, ln, c)}: {m}" for p, ln, c, m in lines)
    return ET.tostring(suite, encoding="unicode")


@click.command()
@config_option(positional=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github", "junit"]),
    default="text",
    show_default=True,
    help="Test-runner text, JSON for scripts, GitHub annotations, or JUnit XML.",
)
def test(config_dir: str, fmt: str) -> None:
    """Run the config tests in DIR/tests/*.yaml (DIR or --config DIR; default:
    $NOTIFIERD_CONFIG or ./config).

    Each case sends a request through the router (and renders it, when asked) and checks the
    routes, channels, deliveries, escalation, suppression and text; an ``oncall`` check says
    who is on call for a schedule at a time. Exit 0 when every case
    passes, 1 when one fails or the config or a case file is invalid, 2 on usage errors.
    """
    root = config_dir
    require_config_dir(root)
    try:
        code = _run(root, fmt)
    except Exception as exc:  # a bug must not look like a traceback in a CI log
        click.echo(
            f"error: notifierd failed while testing {shown_path(root)}: {type(exc).__name__}: {exc} "
            "(this is a bug in notifierd; please report it)",
            err=True,
        )
        code = 1
    sys.exit(code)


def _run(root: str, fmt: str) -> int:
    from notifierd.configtest import case_files, load_cases, run_case
    from notifierd.routing.router import Router
    from notifierd.templates import TemplateCatalog
    from notifierd.validation import validate_repository

    started = time.perf_counter()
    if not case_files(root):
        if fmt == "json":
            click.echo(json.dumps({"passed": 0, "failed": 0, "problems": [], "cases": []}))
        elif fmt == "junit":
            click.echo(junit_xml(root, [], [], 0.0))
        click.echo(f"no config tests in {display_path(root, 'tests')}", err=True)
        return 0
    # A repository `validate` just passed need not compile and render every template again.
    with progress(f"validating {shown_path(root)}"):
        result = validate_repository(root, with_git=False, trust_cache=True)
    cases, case_problems = load_cases(root)
    problems = [p for p in result.problems if p.severity == "error"] + case_problems
    results = []
    if result.snapshot is not None:
        snapshot = result.snapshot
        router, catalog = Router(snapshot), TemplateCatalog(snapshot, result.compiled)
        with progress("running config tests", len(cases)) as advance:
            for case in cases:
                results.append(run_case(snapshot, router, catalog, case))
                advance(1)
    elapsed = time.perf_counter() - started
    if fmt == "json":
        _emit_results_json(root, results, problems)
    elif fmt == "junit":
        click.echo(junit_xml(root, results, problems, elapsed))
    elif fmt == "github":
        emit_github(root, problems, "notifierd test")
        _emit_results_github(root, results)
    else:
        emit_lines(root, problems)
        if result.snapshot is None:
            click.echo(f"{shown_path(root)}: the config is invalid; no tests were run", err=True)
        else:
            _emit_results_text(root, results, elapsed)
    return 1 if problems or any(not r.passed for r in results) else 0
