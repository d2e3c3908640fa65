"""validate's template checks shared with a forked child: the same findings as in one process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notifierd import validation
from notifierd.forked import Forked
from notifierd.validation import validate_repository
from tests.unit.config_repo import MINIMAL_ROUTES, MINIMAL_TEMPLATE, write_repo

needs_two_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="the fork is only made with a spare processor"
)


def _repository(root: Path, versions: int) -> Path:
    """``versions`` template versions; every seventh one has a mistake of its own."""
    files = {"routes.yaml": MINIMAL_ROUTES}
    for i in range(versions):
        text = MINIMAL_TEMPLATE.replace("Deployed to", f"Deploy {i} to")
        if i % 7 == 0:
            text = text.replace(
                "{{ environment }}\n", "{{ environment }} {{ oops_" + str(i) + " }}\n"
            )
        if i % 7 == 3:
            text = text.replace("{{ environment }}\n", "{% if environment %}open\n")
        files[f"templates/t{i % 5}/{i}.0.yaml"] = text
    return write_repo(root, files)


@needs_two_cores
def test_forked_template_checks_find_what_one_process_finds(tmp_path: Path) -> None:
    root = _repository(tmp_path, 60)
    alone = validate_repository(root, with_git=False)
    shared = validate_repository(root, with_git=False, fork=True)
    assert [str(p) for p in shared.problems] == [str(p) for p in alone.problems]
    # Both halves found their mistakes: the first and the last version's are there.
    text = "\n".join(str(p) for p in shared.problems)
    assert "templates/t0/0.0.yaml" in text and "templates/t1/56.0.yaml" in text
    assert "oops_56" in text and "never closed" in text
    # The parent keeps the compiled templates of its own half.
    assert 0 < len(shared.compiled) < len(alone.compiled)


@needs_two_cores
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


def test_forked_returns_what_the_child_computed_or_none_when_it_failed() -> None:
    parent = os.getpid()
    assert Forked(lambda: (os.getpid() != parent, [1, "two"])).result() == (True, [1, "two"])

    def fail() -> None:
        raise ValueError("no")

    assert Forked(fail).result() is None
