"""One way to name the config directory (``--config DIR``, default $NOTIFIERD_CONFIG or ./config),
and paths in messages printed relative to the working directory by every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from notifierd.cli.main import _register, cli
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo

# Lint-clean: every channel and the template are used.
ROUTES = MINIMAL_ROUTES.replace(
    "  - name: default\n",
    "  - name: low\n    matchers: ['priority=\"low\"']\n    channels: [ops-email]\n"
    "    template: deployed\n  - name: default\n",
)
BROKEN_ROUTES = ROUTES.replace("[ops-slack, pager]", "[ops-slak, pager]")
CASES = """\
cases:
  - name: critical goes to the pager
    request: {title: down, message: down, severity: critical}
    expect: {routes: [critical]}
"""
BROKEN_AT = "routes.yaml:15:16: unknown channel 'ops-slak'"

# Every command that reads the config, as a user would run it with --config appended.
CONFIG_COMMANDS = [
    ["validate"],
    ["lint"],
    ["test"],
    ["routes", "test", "severity=critical"],
    ["template", "list"],
    ["template", "render", "deployed", "--channel", "email"],
    ["channel", "list"],
    ["ratelimit", "status"],
]


def invoke(*args: str) -> Result:
    _register()
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a valid config in sub/config and a broken one in sub/broken."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTIFIERD_CONFIG", raising=False)
    files = {
        "routes.yaml": ROUTES,
        "templates/deployed/1.0.yaml": MINIMAL_TEMPLATE,
        "tests/routing.yaml": CASES,
    }
    write_repo(tmp_path / "sub" / "config", files)
    write_repo(tmp_path / "sub" / "broken", {**files, "routes.yaml": BROKEN_ROUTES})
    return tmp_path


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=" ".join)
def test_every_config_command_takes_config_dir(cwd: Path, command: list[str]) -> None:
    result = invoke(*command, "--config", "sub/config")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=" ".join)
def test_every_config_command_defaults_to_notifierd_config(
    cwd: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIERD_CONFIG", "sub/config")
    assert invoke(*command).exit_code == 0


@pytest.mark.parametrize("command", [*CONFIG_COMMANDS, ["run"]], ids=" ".join)
def test_a_missing_config_directory_is_a_usage_error_worded_the_same_everywhere(
    cwd: Path, command: list[str]
) -> None:
    result = invoke(*command, "--config", "sub/nowhere")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: config directory sub/nowhere does not exist "
        "(use --config DIR or set $NOTIFIERD_CONFIG)"
    )


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=" ".join)
def test_problems_name_files_relative_to_the_working_directory(
    cwd: Path, command: list[str]
) -> None:
    relative = invoke(*command, "--config", "sub/broken")
    # An absolute path under the working directory is shown the same way.
    absolute = invoke(*command, "--config", str(cwd / "sub" / "broken"))
    for result in (relative, absolute):
        assert result.exit_code == 1
        assert result.output.startswith(f"sub/broken/{BROKEN_AT}"), result.output


def test_a_path_outside_the_working_directory_is_shown_absolute(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cwd / "elsewhere").mkdir()
    monkeypatch.chdir(cwd / "elsewhere")
    broken = cwd / "sub" / "broken"
    result = invoke("validate", "--config", str(broken))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{broken}/{BROKEN_AT}")
    assert result.stderr.startswith(f"{broken}: invalid: 1 error(s)")
    as_json = json.loads(invoke("validate", str(broken), "--format", "json").stdout)
    assert as_json["problems"][0]["path"] == f"{broken}/routes.yaml"


def test_validate_summary_names_the_directory_as_given_relative(cwd: Path) -> None:
    result = invoke("validate", "--config", str(cwd / "sub" / "config"))
    assert result.exit_code == 0
    assert result.stderr.startswith("sub/config: valid: ")


@pytest.mark.parametrize("command", [["validate"], ["lint"], ["test"]], ids=" ".join)
def test_positional_dir_and_config_must_agree(cwd: Path, command: list[str]) -> None:
    same = invoke(*command, "sub/config", "--config", str(cwd / "sub" / "config"))
    assert same.exit_code == 0, same.output
    differ = invoke(*command, "sub/config", "--config", "sub/broken")
    assert differ.exit_code == 2
    assert "two config directories: 'sub/config' and --config 'sub/broken'" in differ.output


def test_diff_takes_config_only_with_base(cwd: Path) -> None:
    result = invoke("diff", "sub/config", "sub/broken", "--config", "sub/config")
    assert result.exit_code == 2
    assert "--base GIT_REF [DIR | --config DIR]" in result.output


def test_routes_test_hints_at_config_when_the_word_is_a_directory(cwd: Path) -> None:
    result = invoke("routes", "test", "sub/config")
    assert result.exit_code == 2
    assert "'sub/config' is not FIELD=VALUE" in result.output
    assert "to use the config in sub/config, write --config sub/config" in result.output
    plain = invoke("routes", "test", "--config", "sub/config", "nonsense")
    assert plain.exit_code == 2 and "--config nonsense" not in plain.output
