"""The hot-reload benchmark, short (bench/reload.py has the long one): a config swapped while
requests flow is picked up by the running daemon, and no request is lost or delivered twice."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "reload.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reload_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reload_bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("workers", "swap"), [(1, "rewrite"), (2, "link")])
async def test_a_config_swapped_under_load_loses_nothing(
    tmp_path: Path, workers: int, swap: str
) -> None:
    report = await bench().run(
        workers=workers,
        rate=100,
        seconds=12,
        swap_at=1.5,
        window=2,
        swap=swap,
        routes=40,
        templates=4,
        workdir=tmp_path,
        log=lambda _: None,
    )
    assert report.sent == 1200
    assert report.lost == 0, report.daemon_log
    assert report.duplicates == 0
    # Both configs routed some: the swap happened while requests flowed.
    assert report.routed_old > 0 and report.routed_new > 0, report
    assert report.routed_old + report.routed_new == 1200
    assert report.loaded_after is not None  # worker 0 reports the new snapshot
