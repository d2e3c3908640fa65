"""The fault soak, short (bench/faultsoak.py has the long one): Redis killed and restarted,
Postgres stopped and started, a worker killed, a broken config pushed and fixed, all while
requests arrive; no request is lost and every malformed one is rejected with a reason."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faultsoak.py"


def faultsoak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("faultsoak", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["faultsoak"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def test_nothing_is_lost_under_faults(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; the soak runs a private one")
    report = await faultsoak().soak(
        requests=1000, malformed=40, seconds=20, drain=30, workdir=tmp_path, log=lambda _: None
    )
    log = (tmp_path / "daemon.log").read_text()[-3000:]
    assert report.pushed == 1000 and report.push_retries > 0, report  # Redis was away a while
    assert report.lost == 0, (report, log)
    assert report.delivered == report.well_formed == 960
    assert report.rejected_with_reason == report.malformed == 40, (report, log)
    assert report.reasons_speaking_python == 0
    assert report.worker_replaced_in is not None and report.daemon_alive, (report, log)
    # An outage is a WARNING line per part; ERROR is for the refused reload and the killed worker.
    assert set(report.errors_logged) <= {"notifierd.config", "notifierd.supervisor"}, report
    assert not [name for name in report.tracebacks_logged if name.startswith("notifierd")], report
