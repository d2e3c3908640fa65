"""Tables through a pipe keep every column and every value whole; on a terminal they are drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from notifierd.cli import tables
from notifierd.cli.main import _register, cli
from tests.unit.config_repo import write_repo

SHIPPED = Path(__file__).resolve().parents[2] / "config"
LONG_SECRET = "SLACK_BOT_TOKEN_FOR_A_VERY_LONG_TEAM_NAME"
ROUTES = f"""\
channels:
  platform-team-slack-with-a-long-name:
    type: slack
    token: ${{{LONG_SECRET}}}
    default_recipients: ["#platform-announcements-for-everyone-in-engineering"]
  pager: {{type: pagerduty, routing_key: "${{PAGERDUTY_ROUTING_KEY}}"}}
routes:
  - name: default
    channels: [platform-team-slack-with-a-long-name]
"""


def invoke(*args: str) -> Result:
    _register()
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(LONG_SECRET, raising=False)
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    return write_repo(tmp_path / "config", {"routes.yaml": ROUTES})


def test_a_piped_table_is_a_header_and_tab_separated_rows_with_whole_values(config: Path) -> None:
    result = invoke("channel", "list", "--config", str(config))
    assert result.exit_code == 0, result.output
    header, slack, pager = result.output.splitlines()
    assert header.split("\t") == ["name", "type", "default recipients", "environment", "missing"]
    assert slack.split("\t") == [
        "platform-team-slack-with-a-long-name",
        "slack",
        "#platform-announcements-for-everyone-in-engineering",
        LONG_SECRET,
        LONG_SECRET,
    ]
    assert pager.split("\t")[:2] == ["pager", "pagerduty"]


def test_channel_list_json_parses(config: Path) -> None:
    result = invoke("channel", "list", "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["name"], r["env"]) for r in rows] == [
        ("platform-team-slack-with-a-long-name", [LONG_SECRET]),
        ("pager", ["PAGERDUTY_ROUTING_KEY"]),
    ]


def test_template_list_piped_keeps_the_whole_description() -> None:
    result = invoke("template", "list", "--config", str(SHIPPED))
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split("\t") == [
        "name",
        "versions",
        "newest",
        "category",
        "variants",
        "description",
    ]
    by_name = {row.split("\t")[0]: row.split("\t") for row in rows}
    assert by_name["deployment_complete"][5] == (
        "A deployment finished, with its service, timing in seconds and rollback and release links"
    )


def test_routes_test_piped_lists_deliveries_as_tab_separated_rows(config: Path) -> None:
    result = invoke("routes", "test", "--config", str(config), "title=x")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # status (what the daemon would record) comes last: the other columns keep their positions.
    header = lines.index("channel\ttype\trecipient\ttemplate\troute\tstatus")
    assert lines[header + 1].split("\t") == [
        "platform-team-slack-with-a-long-name",
        "slack",
        "#platform-announcements-for-everyone-in-engineering",
        "plain title + message",
        "default",
        "send",
    ]


def test_tabs_and_line_breaks_inside_a_value_become_spaces() -> None:
    lines = tables.plain_lines(["a", "b"], [["one\ttwo", "three\nfour\r\nfive"], [None, 7]])
    assert lines == ["a\tb", "one two\tthree four five", "\t7"]


def test_on_a_terminal_a_drawn_table_leaves_out_empty_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tables, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    tables.print_table("things", ["name", "note", "size"], [["[b]x[/b]", "", 1], ["y", None, 2]])
    out = capsys.readouterr().out
    assert "things" in out and "name" in out and "size" in out
    assert "note" not in out
    assert "[b]x[/b]" in out  # values are text, never markup


@pytest.mark.parametrize(
    "command",
    [
        ["channel", "list"],
        ["template", "list"],
        ["template", "render", "deployment_complete", "--channel", "slack"],
        ["routes", "test", "severity=critical"],
    ],
)
def test_config_listing_commands_print_json_that_parses(command: list[str]) -> None:
    result = invoke(*command, "--config", str(SHIPPED), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)
