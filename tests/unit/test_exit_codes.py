"""Exit codes CI can rely on: an error fails every command, a warning fails `lint` and
`validate --strict`, an info fails nothing; every output format says which is which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifierd.cli.lint import lint as lint_command
from notifierd.cli.validate import validate as validate_command
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo

# Every channel used, so lint finds nothing in it.
CLEAN = MINIMAL_ROUTES.replace(
    "    channels: [ops-slack]\n", "    channels: [ops-slack, ops-email]\n"
)
# validate's own warning: a time zone on a fixed window has no effect.
ZONED_WINDOW = (
    "suppressions:\n  - {name: s, start: 2090-01-01T00:00:00Z, end: 2090-01-02T00:00:00Z, "
    "timezone: UTC}\n"
)

REPOS = {
    "info only": {"routes.yaml": CLEAN, "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE},
    "lint warning": {"routes.yaml": MINIMAL_ROUTES},
    "validate warning": {"routes.yaml": CLEAN + ZONED_WINDOW},
    "error": {"routes.yaml": CLEAN.replace("[ops-slack, pager]", "[ops-slak, pager]")},
}


@pytest.mark.parametrize(
    ("repo", "lint", "validate", "strict"),
    [
        ("info only", 0, 0, 0),
        ("lint warning", 1, 0, 1),
        ("validate warning", 1, 0, 1),
        ("error", 1, 1, 1),
    ],
)
def test_exit_code_matrix(tmp_path: Path, repo: str, lint: int, validate: int, strict: int) -> None:
    root = str(write_repo(tmp_path, REPOS[repo]))
    runner = CliRunner()
    got = (
        runner.invoke(lint_command, [root]).exit_code,
        runner.invoke(validate_command, [root]).exit_code,
        runner.invoke(validate_command, [root, "--strict"]).exit_code,
    )
    assert got == (lint, validate, strict)


def test_summary_line_counts_every_severity(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path,
        {
            "routes.yaml": MINIMAL_ROUTES + ZONED_WINDOW,
            "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        },
    )
    runner = CliRunner()
    lint = runner.invoke(lint_command, [str(root)])
    assert lint.stderr.splitlines()[-1] == (
        f"{root}: not clean: 0 error(s), 2 warning(s), 1 info in 2 file(s)"
    )
    plain = runner.invoke(validate_command, [str(root)])
    assert plain.stderr.splitlines()[-1] == (
        f"{root}: valid: 0 error(s), 1 warning(s), 0 info in 2 file(s)"
    )
    strict = runner.invoke(validate_command, [str(root), "--strict"])
    assert strict.stderr.splitlines()[-1] == (
        f"{root}: valid, but --strict fails on its warnings: 0 error(s), 2 warning(s), 1 info "
        "in 2 file(s)"
    )


def test_json_carries_each_severity_and_the_counts(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path,
        {
            "routes.yaml": MINIMAL_ROUTES + ZONED_WINDOW,
            "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        },
    )
    result = CliRunner().invoke(lint_command, [str(root), "--format", "json"])
    report = json.loads(result.stdout)
    assert (report["errors"], report["warnings"], report["infos"]) == (0, 2, 1)
    assert sorted((p["code"], p["severity"]) for p in report["problems"]) == [
        ("no-effect", "warning"),
        ("unused-channel", "warning"),
        ("unused-template", "info"),
    ]


def test_github_annotations_map_info_to_notice(tmp_path: Path) -> None:
    root = write_repo(
        tmp_path,
        {
            "routes.yaml": MINIMAL_ROUTES + ZONED_WINDOW,
            "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE,
        },
    )
    runner = CliRunner()
    strict = runner.invoke(validate_command, [str(root), "--strict", "--format", "github"])
    levels = sorted(line.split(" ", 1)[0] for line in strict.stdout.splitlines())
    assert levels == ["::notice", "::warning", "::warning"]

    broken = write_repo(tmp_path / "broken", REPOS["error"])
    failed = runner.invoke(validate_command, [str(broken), "--format", "github"])
    assert failed.stdout.startswith("::error file=")
