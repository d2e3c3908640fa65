"""The peer benchmark, tiny (bench/peer.py has the real sizes): the real Alertmanager and
notifierd, default settings and ``--workers 1``, each deliver a burst and a steady rate to the
sink, and the script reports both sides' figures and their ratios. Sizes, not speed, are checked:
performance is read off the benchmark's own output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.fakes.alertmanager import binary

BURST = 200
FIGURES = ("rate", "p50", "p99", "max", "rss")


def test_both_sides_deliver_everything_and_every_figure_has_a_ratio(tmp_path: Path) -> None:
    binary()  # .ci/run installs it: missing is a failure, not a pass
    out = tmp_path / "peer.json"
    args = ["--quick", "--burst", str(BURST), "--rate", "100", "--seconds", "1"]
    args += ["--workers", "1", "--json", str(out)]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "peer.py"), *args],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    [phases] = report["rounds"]
    assert set(phases) == {"Alertmanager", "notifierd", "notifierd --workers 1"}
    for phase in phases.values():
        assert phase["delivered"] == BURST, phase
        assert phase["duplicates"] == 0, phase
        assert phase["rate"] > 0 and phase["rss"] > 0, phase
    for side in ("Alertmanager", "notifierd"):  # the steady rate: 100 alerts/requests each
        p50, p99, peak = (phases[side][name] for name in ("p50", "p99", "max"))
        assert 0 < p50 <= p99 <= peak, phases[side]
    # The machine's CPU per burst delivery. notifierd's is read from its first delivery seen,
    # which a burst this small can beat (then it has none); Alertmanager's from its first post.
    assert phases["Alertmanager"]["cpu"] > 0, phases["Alertmanager"]
    assert "CPU per burst delivery: the machine" in phases["Alertmanager"]["note"]
    # The default is one worker per usable core: the processes add up (a supervisor with more).
    assert phases["notifierd --workers 1"]["processes"] == 1
    for figure in FIGURES:
        [ratio] = report["ratios"]["notifierd"][figure]
        # Same work on the same machine: within three orders of magnitude either way.
        assert 1e-3 < ratio < 1e3, (figure, ratio)
    assert "ratio" in done.stdout and "Alertmanager" in done.stdout
    assert "load average" in done.stdout


def test_without_alertmanager_it_says_how_to_install_it() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "peer.py"), "--quick"],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent", "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "apt-get install prometheus-alertmanager" in done.stderr
