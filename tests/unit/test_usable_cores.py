"""``notifierd run``'s default number of workers: the cores it may use, within a CPU quota."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from notifierd import supervisor
from notifierd.supervisor import cpu_quota, usable_cores

V2 = "0::/system.slice/notifierd.service\n"
V1 = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


def cgroups(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, own: str, files: dict[str, str]
) -> None:
    """A cgroup file system at ``tmp_path`` holding ``files``; ``own``: /proc/self/cgroup."""
    root = tmp_path / "cgroup"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "own").write_text(own)
    monkeypatch.setattr(supervisor, "CGROUP_ROOT", root)
    monkeypatch.setattr(supervisor, "OWN_CGROUPS", tmp_path / "own")


@pytest.mark.parametrize(
    ("own", "files", "cpus"),
    [
        # a systemd unit's CPUQuota=150% (v2, the unit's own cgroup)
        (V2, {"system.slice/notifierd.service/cpu.max": "150000 100000\n"}, 1.5),
        (V2, {"system.slice/notifierd.service/cpu.max": "max 100000\n"}, None),
        # a container with a cgroup namespace sees its own cgroup at the root
        ("0::/\n", {"cpu.max": "200000 100000\n"}, 2.0),
        # v1, a container's own mount of the cpu controller (the host's path is not there)
        (V1, {"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
        (V1, {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        (V2, {}, None),
        ("0::/\n", {"cpu.max": "garbage\n"}, None),
    ],
)
def test_the_quota_is_read_as_cpus(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    own: str,
    files: dict[str, str],
    cpus: float | None,
) -> None:
    cgroups(monkeypatch, tmp_path, own, files)
    assert cpu_quota() == cpus


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "cores"),
    [
        (4, "max 100000", 4),  # no quota: every core of the affinity
        (8, "150000 100000", 2),  # a quota rounds up...
        (8, "20000 100000", 1),
        (8, "1600000 100000", 8),  # ...and never adds cores
        (256, "max 100000", supervisor.MAX_WORKERS),  # at most what --workers accepts
    ],
)
def test_one_worker_per_usable_core(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, affinity: int, cpu_max: str, cores: int
) -> None:
    cgroups(monkeypatch, tmp_path, "0::/\n", {"cpu.max": cpu_max})
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    assert usable_cores() == cores
