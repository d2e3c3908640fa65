"""``notifierd run``'s default number of workers: the cores it may use, within a CPU quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notifierd import supervisor
from notifierd.supervisor import cpu_quota, usable_cores


def quota_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *contents: str) -> None:
    paths = []
    for i, text in enumerate(contents):
        path = tmp_path / f"quota{i}"
        path.write_text(text)
        paths.append(str(path))
    monkeypatch.setattr(supervisor, "CPU_QUOTA_FILES", (tuple(paths),))


@pytest.mark.parametrize(
    ("contents", "cpus"),
    [
        (("150000 100000\n",), 1.5),  # cgroup v2 cpu.max
        (("max 100000\n",), None),
        (("50000\n", "100000\n"), 0.5),  # cgroup v1 quota and period
        (("-1\n", "100000\n"), None),
        (("garbage\n",), None),
    ],
)
def test_the_quota_is_read_as_cpus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, contents: tuple[str, ...], cpus: float | None
) -> None:
    quota_files(monkeypatch, tmp_path, *contents)
    assert cpu_quota() == cpus


def test_without_a_quota_every_core_of_the_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "CPU_QUOTA_FILES", (("/nonexistent/cpu.max",),))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert usable_cores() == 4


def test_a_quota_rounds_up_and_never_adds_cores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    quota_files(monkeypatch, tmp_path, "150000 100000")
    assert usable_cores() == 2
    quota_files(monkeypatch, tmp_path, "20000 100000")
    assert usable_cores() == 1
    quota_files(monkeypatch, tmp_path, "1600000 100000")
    assert usable_cores() == 8


def test_at_most_the_workers_run_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "CPU_QUOTA_FILES", ())
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(256)))
    assert usable_cores() == supervisor.MAX_WORKERS
