"""deploy/prometheus: the rules load in Prometheus, their unit tests pass, every alert is tested
firing and quiet, and every metric they read is one the daemon exports."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import yaml

from tests.conftest import ROOT
from tests.exported_metrics import promql_metric_names, unknown_metrics

RULES_DIR = ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "notifierd-rules.yaml"
RULE_TESTS = RULES_DIR / "notifierd-rules.test.yaml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    # Not skipped when missing: CI installs it (.ci/run, scripts/ensure-promtool).
    found = shutil.which("promtool")
    assert found, "promtool is missing: apt-get install prometheus (scripts/ensure-promtool)"
    return subprocess.run(
        [found, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120, check=False
    )


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rules_pass_promtool_check() -> None:
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rule_unit_tests_pass() -> None:
    tested = promtool("test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    assert alerts - firing == set(), "alerts never seen firing"
    assert alerts - quiet == set(), "alerts never seen quiet"


def test_rules_read_only_metrics_the_daemon_exports() -> None:
    exprs = {rule.get("alert") or rule["record"]: rule["expr"] for rule in rules()}
    assert unknown_metrics(exprs) == {}


def test_metric_names_are_found_and_checked_in_promql() -> None:
    expr = 'sum(rate(notifierd_retries_total{job="notifierd"}[5m])) / notifierd:attempts:rate5m'
    assert promql_metric_names(expr) == {"notifierd_retries_total"}
    assert unknown_metrics({"x": "notifierd_retries_total + notifierd_retries"}) == {
        "x": {"notifierd_retries"}  # a counter is read by its _total series
    }
