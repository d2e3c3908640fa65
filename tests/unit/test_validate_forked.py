"""validate's template files shared with a forked child: the same findings as in one process."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from notifierd import forked, validation
from notifierd.forked import Forked
from notifierd.validation import validate_repository
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo


@pytest.fixture(autouse=True)
def a_spare_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fork is made only when a processor is idle; a loaded test machine may have none."""
    monkeypatch.setattr(validation, "spare_cores", lambda: 1)


def _repository(root: Path, versions: int) -> Path:
    """``versions`` template versions; most have a mistake of their own, of four kinds."""
    files = {"routes.yaml": MINIMAL_ROUTES}
    for i in range(versions):
        text = MINIMAL_TEMPLATE.replace("Deployed to", f"Deploy {i} to")
        if i % 7 == 0:
            text = text.replace(
                "{{ environment }}\n", "{{ environment }} {{ oops_" + str(i) + " }}\n"
            )
        if i % 7 == 3:
            text = text.replace("{{ environment }}\n", "{% if environment %}open\n")
        if i % 7 == 5:
            text += "subjct: a key the schema does not know\n"
        if i % 7 == 6:
            text += "examples: [unclosed\n"  # not YAML
        files[f"templates/t{i % 5}/{i}.0.yaml"] = text
    return write_repo(root, files)


def test_forked_template_checks_find_what_one_process_finds(tmp_path: Path) -> None:
    root = _repository(tmp_path, 60)
    alone = validate_repository(root, with_git=False)
    shared = validate_repository(root, with_git=False, fork=True)
    assert [str(p) for p in shared.problems] == [str(p) for p in alone.problems]
    # Both halves found their mistakes: the first and the last version's are there.
    text = "\n".join(str(p) for p in shared.problems)
    assert "templates/t0/0.0.yaml" in text and "templates/t1/56.0.yaml" in text
    assert "oops_56" in text and "never closed" in text
    assert "templates/t1/41.0.yaml" in text and "unknown key 'subjct'" in text  # schema
    assert "templates/t0/55.0.yaml" in text and "YAML" in text  # syntax
    # The snapshot is not built (there are errors), but every version's file was read.
    assert shared.files == alone.files
    # The parent keeps the compiled templates of its own half.
    assert 0 < len(shared.compiled) < len(alone.compiled)


def test_a_valid_repository_read_in_two_processes_has_every_version(tmp_path: Path) -> None:
    files = {"routes.yaml": MINIMAL_ROUTES}
    for i in range(50):
        files[f"templates/t{i % 4}/{i}.0.yaml"] = MINIMAL_TEMPLATE.replace("to", f"({i}) to")
    root = write_repo(tmp_path, files)
    alone = validate_repository(root, with_git=False)
    shared = validate_repository(root, with_git=False, fork=True)
    assert alone.snapshot is not None and shared.snapshot is not None
    assert shared.snapshot.templates == alone.snapshot.templates
    assert sum(len(v) for v in shared.snapshot.templates.values()) == 50


def test_a_failed_child_leaves_the_work_to_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repository(tmp_path, 60)
    alone = validate_repository(root, with_git=False)

    class Failing(Forked[list[object]]):
        def result(self) -> list[object] | None:
            super().result()
            return None

    monkeypatch.setattr(validation, "Forked", Failing)
    shared = validate_repository(root, with_git=False, fork=True)
    assert [str(p) for p in shared.problems] == [str(p) for p in alone.problems]


def test_no_fork_without_a_spare_processor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repository(tmp_path, 60)
    monkeypatch.setattr(validation, "spare_cores", lambda: 0)
    monkeypatch.setattr(validation, "Forked", None)  # would fail if called
    alone = validate_repository(root, with_git=False)
    assert len(validate_repository(root, with_git=False, fork=True).compiled) == len(alone.compiled)


def test_spare_cores_counts_idle_processors(monkeypatch: pytest.MonkeyPatch) -> None:
    # This process runs (it reads the count), so it never sees all of its processors idle.
    assert 0 <= forked.spare_cores() < len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    for line, spare in (("0.50 0.40 0.30 1/300 42", 3), ("7.9 7.1 4.2 6/300 42", 0)):
        monkeypatch.setattr(
            forked, "open", lambda *a, line=line, **k: io.StringIO(line), raising=False
        )
        assert forked.spare_cores() == spare


def test_forked_returns_what_the_child_computed_or_none_when_it_failed() -> None:
    parent = os.getpid()
    assert Forked(lambda: (os.getpid() != parent, [1, "two"])).result() == (True, [1, "two"])

    def fail() -> None:
        raise ValueError("no")

    assert Forked(fail).result() is None
