"""The Alertmanager intake benchmark, short (bench/alertmanager_intake.py has the long one): the
real Alertmanager hands 100 alerts in 10 groups to the daemon, and every notifierd alert's level 1
reaches the channel exactly once — one per group by default, one per alert with ?per_alert=true."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.fakes.alertmanager import binary

BENCH = Path(__file__).resolve().parents[2] / "bench" / "alertmanager_intake.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alertmanager_intake", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["alertmanager_intake"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("mode", "notifierd_alerts"), [("group", 10), ("alert", 100)])
async def test_every_alert_level_one_arrives_once(
    tmp_path: Path, mode: str, notifierd_alerts: int
) -> None:
    binary()  # .ci/run installs it: missing is a failure, not a pass
    report = await bench().run(
        mode=mode, alerts=100, groups=10, timeout=60, workdir=tmp_path, log=lambda _: None
    )
    assert report.queued == 100, report.daemon_log
    assert report.failed == 0, report  # Alertmanager got a 2xx for every notification
    assert report.level1_expected == notifierd_alerts
    assert report.level1_received == report.level1_distinct == notifierd_alerts, report
