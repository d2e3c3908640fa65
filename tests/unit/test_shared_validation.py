"""The workers of one daemon validate each config once between them: the first asks a child,
the others read its answer (offloop.SharedValidation)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from notifierd import offloop, validation
from notifierd.validation import validate_repository
from tests.unit.config_repo import MINIMAL_TEMPLATE, write_repo
from tests.unit.test_reloads import write_routes


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], list[Path]]:
    """The roots validated so far, each by a child. Every call forks a child; one that finds a
    sibling's answer validates nothing. Written to a file: the children are other processes."""
    log = tmp_path / "validated.log"
    log.touch()
    real = offloop._validated

    def counted(root: Path, *args: Any) -> Any:
        with log.open("a") as out:
            out.write(f"{root}\n")
        return real(root, *args)

    monkeypatch.setattr(offloop, "_validated", counted)
    return lambda: [Path(line) for line in log.read_text().splitlines()]


def repo(path: Path, channel: str = "ops-slack") -> Path:
    path.mkdir()
    write_routes(path, channel)
    write_repo(path, {"templates/deploy/1.0.yaml": MINIMAL_TEMPLATE})
    return path


def test_the_second_worker_reads_the_first_ones_answer(
    tmp_path: Path, validated: Callable[[], list[Path]]
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    first = offloop.SharedValidation(tmp_path / "shared")(root)
    second = offloop.SharedValidation(tmp_path / "shared")(root)
    assert validated() == [root]
    assert first.snapshot is not None and second.snapshot == first.snapshot
    assert second.snapshot == validate_repository(root).snapshot


def test_workers_asking_at_once_wait_for_one_child(
    tmp_path: Path, validated: Callable[[], list[Path]]
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    results: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(offloop.SharedValidation(tmp_path / "shared")(root))
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(validated()) == 1
    assert len(results) == 4 and len({r.snapshot.identity for r in results}) == 1


def test_a_changed_file_is_validated_again(
    tmp_path: Path, validated: Callable[[], list[Path]]
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    shared = offloop.SharedValidation(tmp_path / "shared")
    before = shared(root)
    write_routes(root, "pager")
    after = shared(root)
    assert len(validated()) == 2
    assert before.snapshot is not None and after.snapshot is not None
    assert before.snapshot.identity != after.snapshot.identity


def test_a_refused_config_is_refused_alike_for_every_worker(
    tmp_path: Path, validated: Callable[[], list[Path]]
) -> None:
    root = tmp_path / "config"
    root.mkdir()
    (root / "routes.yaml").write_text("routes: [{name: broken\n")
    (tmp_path / "shared").mkdir()
    first = offloop.SharedValidation(tmp_path / "shared")(root)
    second = offloop.SharedValidation(tmp_path / "shared")(root)
    assert len(validated()) == 1
    assert first.snapshot is None and second.snapshot is None
    assert second.problems == first.problems == validate_repository(root).problems


def test_only_the_newest_answers_are_kept(
    tmp_path: Path, validated: Callable[[], list[Path]]
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    shared = offloop.SharedValidation(tmp_path / "shared")
    for i in range(offloop.SharedValidation.KEEP + 3):
        write_routes(root, f"channel-{i}")  # an unknown channel: refused, an answer all the same
        shared(root)
    assert len(list((tmp_path / "shared").glob("*.answer"))) == offloop.SharedValidation.KEEP
    assert not list((tmp_path / "shared").glob("*.tmp"))


def test_a_validation_that_raised_is_not_left_for_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    failed_once = tmp_path / "failed-once"
    real = offloop._validated

    def first_raises(root: Path, *args: Any) -> Any:
        if not failed_once.exists():  # in the child: a file says it happened
            failed_once.touch()
            return ("raised", "OSError: [Errno 11] fork refused")
        return real(root, *args)

    monkeypatch.setattr(offloop, "_validated", first_raises)
    shared = offloop.SharedValidation(tmp_path / "shared")
    with pytest.raises(offloop.ChildFailed, match="fork refused"):
        shared(root)
    assert shared(root).snapshot is not None  # validated again, not the failure read back


def test_files_changed_while_validating_leave_no_answer_under_the_old_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(tmp_path / "config")
    (tmp_path / "shared").mkdir()
    real = offloop._validated

    def edited_meanwhile(root: Path, *args: Any) -> Any:
        answer = real(root, *args)
        write_routes(root, "pager")  # a deploy rewrote a file during the validation
        return answer

    monkeypatch.setattr(offloop, "_validated", edited_meanwhile)
    offloop.SharedValidation(tmp_path / "shared")(root)
    assert not list((tmp_path / "shared").glob("*.answer"))


def test_a_child_killed_for_its_time_leaves_no_grandchild_and_no_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grandchild holds copies of the child's descriptors: alive after the child was
    killed, it would keep the daemon's reload lock held and every later reload waiting."""
    root = tmp_path / "config"
    templates = {
        f"templates/t{i}/1.0.yaml": MINIMAL_TEMPLATE.replace("Deployed to", f"Deploy {i} to")
        for i in range(validation._FORK_FROM + 5)
    }
    write_repo(root, templates)
    write_routes(root, "ops-slack")
    (tmp_path / "shared").mkdir()
    pid_file = tmp_path / "grandchild.pid"
    real = validation.Forked

    def hangs(work: Any) -> Any:
        def forever() -> Any:
            pid_file.write_text(str(os.getpid()))
            time.sleep(3600)

        return real(forever)

    monkeypatch.setattr(validation, "spare_cores", lambda: 1)
    monkeypatch.setattr(validation, "Forked", hangs)
    with pytest.raises(offloop.ChildFailed, match="longer than"):
        offloop.SharedValidation(tmp_path / "shared")(root, with_git=False, timeout=2.0)
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{grandchild}").exists() and not _zombie(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived the killed child"
        time.sleep(0.05)
    with open(tmp_path / "shared" / "validating.lock", "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if still held


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True
