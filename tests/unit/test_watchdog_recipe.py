"""The README's dead man's switch recipe is valid for each tool it is written for: the
Prometheus rule (promtool), the Alertmanager route (amtool), the heartbeat (notifierd validate)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.config_repo import MINIMAL_ROUTES, validate

SECTION = "### A dead man's switch for Prometheus"


def recipe_block(marker: str) -> str:
    """The ```yaml block of the recipe whose first line is ``marker``."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(SECTION) :]
    section = section[: section.index("\n## ")]
    for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL):
        if block.startswith(marker):
            return str(block)
    raise AssertionError(f"no ```yaml block starting {marker!r} in {SECTION!r}")


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which(tool)
    if path is None:
        # .ci/run installs both (scripts/ensure-promtool, scripts/ensure-alertmanager): a CI
        # run without them must fail, not pass with the recipe unchecked.
        pytest.fail(f"{tool} is not installed (Debian: prometheus, prometheus-alertmanager)")
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=30)


def test_the_heartbeat_validates(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES + recipe_block("# routes.yaml")})
    assert result.problems == []
    assert result.snapshot is not None
    heartbeat = result.snapshot.heartbeats["prometheus"]
    assert [str(m) for m in heartbeat.from_alert] == ['alertname="Watchdog"']


def test_the_prometheus_rule_checks(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(recipe_block("# prometheus rules file"))
    done = run("promtool", "check", "rules", str(rules))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alertmanager_route_sends_the_watchdog_to_notifierd(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(recipe_block("# alertmanager.yml"))
    done = run("amtool", "check-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    done = run(
        "amtool", "config", "routes", "test", f"--config.file={config}", "--tree",
        "alertname=Watchdog",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # Its own route (with its short repeat_interval), not only the default one.
    assert '{alertname="Watchdog"}  receiver: notifierd' in done.stdout
