"""`notifierd test`: config test cases run against the shipped config and against broken ones."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifierd.cli.test import test as config_test_command
from notifierd.configtest import load_cases, run_case
from notifierd.routing.router import Router
from notifierd.templates import TemplateCatalog
from notifierd.validation import validate_repository

SHIPPED = Path(__file__).resolve().parents[2] / "config"

HEADER = "cases:\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the shipped config without its tests, for each test to add its own."""
    root = tmp_path / "config"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("tests"))
    (root / "tests").mkdir()
    return root


def write(root: Path, text: str, name: str = "routing.yaml") -> Path:
    path = root / "tests" / name
    path.write_text(text, encoding="utf-8")
    return path


def invoke(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(config_test_command, [str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def run_one(root: Path, text: str) -> list[str]:
    """The failure messages (with line) of the single case in ``text``."""
    write(root, text)
    snapshot = validate_repository(root, with_git=False).snapshot
    assert snapshot is not None
    cases, problems = load_cases(root)
    assert problems == []
    [case] = cases
    result = run_case(snapshot, Router(snapshot), TemplateCatalog(snapshot), case)
    assert result.error is None
    return [f"{f.line}: {f.message}" for f in result.failures]


CRITICAL = """\
cases:
  - name: critical
    at: 2026-11-25T12:00:00Z
    request: {title: DB down, message: primary unreachable, severity: critical}
    expect:
"""


def test_shipped_config_passes() -> None:
    code, output = invoke(SHIPPED)
    assert code == 0, output
    assert "0 failed" in output
    assert "✗" not in output


def test_failing_case_points_at_the_expect_key_with_expected_and_actual(repo: Path) -> None:
    write(repo, CRITICAL + "      routes: [audit, critical-priority]\n")
    code, output = invoke(repo)
    assert code == 1
    assert (
        "tests/routing.yaml:6:7: case 'critical': expected routes [audit, critical-priority], "
        "got [audit, critical-severity, default]"
    ) in output
    assert "✗ critical" in output
    assert "0 passed, 1 failed" in output


def test_every_expectation_passes_when_true(repo: Path) -> None:
    assert (
        run_one(
            repo,
            CRITICAL
            + """\
      routes: [audit, critical-severity, default]
      channels: [audit, ops-email, ops-slack, pager]
      deliveries:
        - {channel: audit, recipient: null}
        - {channel: pager, recipient: null}
        - {channel: ops-slack, recipient: "#incidents"}
        - {channel: ops-slack, recipient: "#ops"}
        - {channel: ops-email, recipient: oncall@company.com}
      includes: [{channel: pager}, {channel: ops-slack, recipient: "#ops"}]
      escalation: critical-incident
      suppressed: false
      template: null
      rendered:
        - channel: slack
          subject: {equals: DB down}
          text: {contains: primary unreachable}
        - channel: pager
          subject: {matches: "^DB"}
""",
        )
        == []
    )


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("channels: [audit, pager]", "6: expected channels [audit, pager], got [audit, ops-email"),
        (
            "deliveries: [{channel: audit}]",
            "6: expected deliveries [audit], got [",
        ),
        ("includes: [{channel: oncall-sms}]", "6: expected a delivery to oncall-sms, got ["),
        (
            'includes: [{channel: ops-slack, recipient: "#x"}]',
            "6: expected a delivery to ops-slack→#x",
        ),
        ("escalation: null", "6: expected escalation none, got critical-incident"),
        ("suppressed: weekly-maintenance", "6: expected suppressed by weekly-maintenance, got not"),
        ("suppressed: true", "6: expected suppressed, got not suppressed"),
        ("template: incident_alert@1.0", "6: expected template incident_alert@1.0, got [plain]"),
        (
            "rendered: [{channel: ops-slack, subject: {equals: Nope}}]",
            "6: expected subject on ops-slack to equal 'Nope', got 'DB down'",
        ),
        (
            "rendered: [{channel: ops-email, text: {contains: zzz}}]",
            "6: expected text on ops-email to contain 'zzz'",
        ),
        (
            "rendered: [{channel: ops-email, text: {matches: '^zzz'}}]",
            "6: expected text on ops-email to match /^zzz/",
        ),
        (
            "rendered: [{channel: eng-teams}]",
            "6: expected a delivery to channel eng-teams to render",
        ),
    ],
)
def test_each_expectation_fails_with_expected_and_actual(
    repo: Path, expect: str, message: str
) -> None:
    failures = run_one(repo, CRITICAL + f"      {expect}\n")
    assert len(failures) == 1, failures
    assert failures[0].startswith(message), failures


def test_template_expectation_uses_resolved_version(repo: Path) -> None:
    text = """\
cases:
  - name: postmortem
    at: 2026-11-25T12:00:00Z
    request:
      template: postmortem_complete
      protocol: P-OPS-POSTMORTEM
      context: {incident_title: T, incident_id: I-1, date: "2026-01-01", duration: 1h, impact: x, root_cause: y}
    expect:
      template: postmortem_complete@1.0
      rendered:
        - channel: eng-slack
          subject: {equals: "Postmortem Complete: T (I-1)"}
"""
    assert run_one(repo, text) == []


def test_bad_case_file_is_located(repo: Path) -> None:
    write(repo, CRITICAL + "      route: [audit]\n")
    code, output = invoke(repo)
    assert code == 1
    assert "tests/routing.yaml:6:7:" in output
    assert "route" in output


def test_invalid_request_is_located(repo: Path) -> None:
    write(
        repo, HEADER + "  - name: bad\n    request: {title: x, priority: urgent}\n    expect: {}\n"
    )
    _, problems = load_cases(repo)
    assert [(p.path, p.line) for p in problems] == [("tests/routing.yaml", 3)] or all(
        p.line == 3 for p in problems
    )
    assert "case 'bad': invalid request" in problems[0].message


def test_yaml_syntax_error_and_bad_time(repo: Path) -> None:
    write(repo, "cases: [\n", "broken.yaml")
    write(repo, CRITICAL.replace("2026-11-25T12:00:00Z", "tomorrow") + "      routes: []\n")
    _, problems = load_cases(repo)
    paths = {p.path for p in problems}
    assert paths == {"tests/broken.yaml", "tests/routing.yaml"}


def test_invalid_config_prints_its_problems_and_exits_1(repo: Path) -> None:
    routes = repo / "routes.yaml"
    routes.write_text(routes.read_text().replace("channels: [eng-slack]", "channels: [nope]", 1))
    write(repo, CRITICAL + "      routes: [audit]\n")
    code, output = invoke(repo)
    assert code == 1
    assert "routes.yaml:" in output and "nope" in output


def test_no_tests_folder(tmp_path: Path) -> None:
    root = tmp_path / "config"
    shutil.copytree(SHIPPED, root, ignore=shutil.ignore_patterns("tests"))
    code, output = invoke(root)
    assert code == 0
    assert f"no config tests in {root}/tests" in output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke(tmp_path / "missing")[0] == 2
    assert invoke(SHIPPED, "--format", "xml")[0] == 2


def test_junit_xml_parses(repo: Path) -> None:
    write(
        repo,
        CRITICAL
        + "      escalation: critical-incident\n"
        + "  - name: wrong\n    request: {title: a, message: b}\n    expect: {routes: [x]}\n",
    )
    code, output = invoke(repo, "--format", "junit")
    assert code == 1
    suite = ET.fromstring(output)
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["critical"].find("failure") is None
    failure = cases["wrong"].find("failure")
    assert failure is not None and "expected routes [x]" in failure.get("message", "")


def test_json_and_github_formats(repo: Path) -> None:
    write(repo, CRITICAL + "      escalation: standard-incident\n")
    code, output = invoke(repo, "--format", "json")
    assert code == 1
    data = json.loads(output)
    [case] = data["cases"]
    assert case["status"] == "failed"
    assert case["failures"][0]["expected"] == "standard-incident"
    assert case["failures"][0]["actual"] == "critical-incident"
    code, output = invoke(repo, "--format", "github")
    assert code == 1
    assert "::error file=" in output and ",line=6,col=7," in output


ASK = """\
cases:
  - name: the agent's question at a time
    at: AT
    request: {title: t, message: m, protocol: CA-CS-NotifyHuman}
    expect:
      deliveries:
        - {channel: audit, recipient: null}
        - {channel: ops-slack, recipient: "RECIPIENT", person: PERSON}
"""


def ask(at: str, recipient: str, person: str) -> str:
    return ASK.replace("AT", at).replace("RECIPIENT", recipient).replace("PERSON", person)


def test_expected_deliveries_resolve_schedules_at_the_cases_time(repo: Path) -> None:
    # Monday's handoff, 09:00 Berlin: bob's week ends, carol's begins.
    assert run_one(repo, ask("2026-11-30T08:59:00+01:00", "@U0123BOB", "bob")) == []
    assert run_one(repo, ask("2026-11-30T09:00:00+01:00", "@U0123CAROL", "carol")) == []
    assert run_one(repo, ask("2026-11-30T09:00:00+01:00", "@U0123CAROL", "bob")) == [
        "8: expected ops-slack→@U0123CAROL to page bob, got [carol]"
    ]
    # The unresolved schedule is not what is sent: the case says who is paged.
    failure = run_one(repo, ask("2026-11-30T09:00:00+01:00", "@on-call-primary", "carol"))[0]
    assert "missing [ops-slack→@on-call-primary]" in failure
    assert "unexpected [ops-slack→@U0123CAROL]" in failure
