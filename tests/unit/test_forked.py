"""A function called in a forked child: its result or its exception comes back as if it had run
here, and what it imports stays in the child (the supervisor's memory)."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path

import click
import pytest

from notifierd.forked import ChildFailed, in_child


def test_the_result_comes_back() -> None:
    assert in_child(lambda: {"pid": os.getpid(), "answer": [42]})["answer"] == [42]
    assert in_child(os.getpid) != os.getpid()


def test_what_the_child_imports_stays_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "only_in_the_child.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert in_child(lambda: importlib.import_module("only_in_the_child").LOADED) is True
    assert "only_in_the_child" not in sys.modules


def test_a_usage_error_comes_back_with_what_it_names() -> None:
    def refuse() -> None:
        raise click.BadParameter("expects HOST:PORT", param_hint="--http")

    with pytest.raises(click.BadParameter) as raised:
        in_child(refuse)
    assert raised.value.format_message() == "Invalid value for --http: expects HOST:PORT"


def test_an_exit_comes_back_with_its_status() -> None:
    with pytest.raises(SystemExit) as raised:
        in_child(lambda: sys.exit(2))
    assert raised.value.code == 2


def test_a_child_killed_before_answering_is_a_failure_saying_so() -> None:
    with pytest.raises(ChildFailed, match="killed by signal 9"):
        in_child(lambda: os.kill(os.getpid(), signal.SIGKILL))
