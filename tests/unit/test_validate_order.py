"""Validate's report reads top-down: what keeps a file from being read comes first, then schema
problems, then references; references into a file that did not parse are not reported."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from notifierd.cli.validate import validate as validate_command
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, validate

POLICY = """\
name: Standard
levels:
  - after: 0m
    channels: [ops-slack, pager]
  - after: 30m
    channels: [ops-email]
"""


def test_a_broken_routes_file_comes_first_without_its_follow_ons(
    shipped_config: Path, tmp_path: Path
) -> None:
    root = tmp_path / "config"
    shutil.copytree(shipped_config, root)
    routes = root / "routes.yaml"
    routes.write_text(routes.read_text().replace("  ops-slack:\n", "  ops-slack: [\n", 1))
    # An unrelated mistake in a file that parses is still reported.
    policy = root / "policies" / "standard-incident.yaml"
    policy.write_text(policy.read_text().replace("after: 0m", "after: soon", 1))

    result = CliRunner().invoke(validate_command, [str(root)])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{root}/routes.yaml:") and "YAML syntax error" in lines[0]
    assert not [ln for ln in lines if "unknown channel" in ln], result.stdout
    assert len(lines) == 2
    assert lines[1].startswith(f"{root}/policies/standard-incident.yaml:")
    assert "'soon'" in lines[1]


def test_a_tab_in_the_indentation_says_use_spaces_at_the_tab(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace(
        "    token: ${SLACK_BOT_TOKEN}\n", "  \ttoken: ${SLACK_BOT_TOKEN}\n"
    )
    assert [str(p) for p in validate(tmp_path, {"routes.yaml": routes}).problems] == [
        "routes.yaml:4:3: YAML syntax error: a tab in the indentation; YAML indentation must "
        "use spaces, not tabs"
    ]


def test_syntax_then_schema_then_references_whatever_the_paths(tmp_path: Path) -> None:
    files = {
        "routes.yaml": MINIMAL_ROUTES.replace("[ops-slack, pager]", "[ops-slak, pager]"),
        "policies/standard.yaml": POLICY.replace("after: 30m", "after: later"),
        "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE.replace("examples:", "examples: [", 1),
    }
    codes = [(p.path, p.code) for p in validate(tmp_path, files).problems]
    assert [path for path, _ in codes] == [
        "templates/deploy/1.0.yaml",  # cannot be read
        "policies/standard.yaml",  # schema: 'later' is no duration
        "routes.yaml",  # reference: unknown channel
    ]
    assert codes[2][1] == "unknown-channel"


def test_without_a_routes_file_no_channel_is_called_unknown(tmp_path: Path) -> None:
    problems = validate(tmp_path, {"policies/standard.yaml": POLICY}).problems
    assert [(p.path, p.code) for p in problems] == [("routes.yaml", "missing")]


def test_channels_that_are_not_a_mapping_are_one_schema_problem(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace("channels:\n  ops-slack:", "channels:\n- ops-slack:", 1)
    problems = validate(tmp_path, {"routes.yaml": routes, "policies/p.yaml": POLICY}).problems
    assert [str(p) for p in problems] == [
        "routes.yaml:2:1: 'channels' must be a mapping, not a list"
    ]


def test_references_to_a_template_or_policy_that_did_not_parse_are_not_unknown(
    tmp_path: Path,
) -> None:
    routes = MINIMAL_ROUTES.replace(
        "    channels: [ops-slack]\n",
        "    channels: [ops-slack]\n    template: deploy@1.0\n    escalation: standard\n",
    )
    files = {
        "routes.yaml": routes,
        "policies/standard.yaml": POLICY.replace("levels:", "levels: [", 1),
        "templates/deploy/1.0.yaml": MINIMAL_TEMPLATE.replace("examples:", "examples: [", 1),
    }
    problems = validate(tmp_path, files).problems
    assert [(p.path, p.code) for p in problems] == [
        ("policies/standard.yaml", "yaml"),
        ("templates/deploy/1.0.yaml", "yaml"),
    ]
