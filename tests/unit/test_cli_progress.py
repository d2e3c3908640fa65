"""Progress for long CLI operations: drawn on a terminal, never in a pipe or a CI log."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from notifierd.cli import progress as progress_module
from notifierd.cli.progress import progress
from notifierd.cli.test import test as config_test_command

CONFIG = Path(__file__).resolve().parents[2] / "config"


def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Make progress believe stderr is a terminal; return what it draws."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    monkeypatch.setattr(progress_module, "stderr_console", lambda: console)
    return out


def test_a_bar_on_a_terminal_counts_up(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = terminal(monkeypatch)
    with progress("running config tests", 3) as advance:
        for _ in range(3):
            advance(1)
    text = drawn.getvalue()
    assert "running config tests" in text and "3/3" in text


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_module.stderr_console() is None
    with progress("validating", None) as advance:
        advance(1)
    assert capsys.readouterr().err == ""


def test_config_tests_show_a_bar_and_keep_their_json_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = terminal(monkeypatch)
    result = CliRunner().invoke(config_test_command, [str(CONFIG), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith("{")  # stdout: the JSON only
    assert "running config tests" in drawn.getvalue()
