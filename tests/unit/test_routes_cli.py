"""``notifierd routes test``: what a config author sees, as table and as JSON, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from notifierd.cli import common
from notifierd.cli.routes import routes
from tests.unit.builders import example_snapshot

SATURDAY_NIGHT = "2026-12-05T02:30:00Z"  # inside weekly-maintenance (02:00-06:00 Berlin)


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve PRODUCT.md's example config without going through the loader."""
    monkeypatch.setattr(common, "load_or_exit", lambda _dir: example_snapshot())


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(routes, ["test", *args], input=stdin)


def run_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = run(*args, "--format", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_report_for_a_critical_request(example: None) -> None:
    report = run_json("severity=critical", "id=r-1", "--at", "2026-06-01T12:00:00Z")
    assert report["request_id"] == "r-1"
    assert report["at"] == "2026-06-01T12:00:00+00:00"
    assert report["routes"] == ["critical", "default"]
    assert report["deliveries"] == [
        {
            "channel": "ops-slack",
            "type": "slack",
            "recipient": "#incidents",
            "template": "incident_alert@1.0",
            "template_from": "route",
            "route": "critical",
        },
        {
            "channel": "pager",
            "type": "pagerduty",
            "recipient": None,
            "template": "incident_alert@1.0",
            "template_from": "route",
            "route": "critical",
        },
        {
            "channel": "ops-slack",
            "type": "slack",
            "recipient": "#ops",
            "template": None,
            "template_from": "none",
            "route": "default",
        },
    ]
    assert report["escalation"] == "critical-incident"
    assert report["escalation_known"] is True
    assert report["suppressed_by"] is None
    assert report["unknown_channels"] == []


def test_suppression_shows_name_and_end(example: None) -> None:
    report = run_json("source=maintenance:db", "--at", SATURDAY_NIGHT)
    assert report["suppressed_by"] == {
        "name": "weekly-maintenance",
        "until": "2026-12-05T05:00:00+00:00",
    }


def test_at_accepts_offsets_and_naive_times(example: None) -> None:
    assert (
        run_json("service=db", "--at", "2026-12-01T03:00:00+01:00")["suppressed_by"]["name"]
        == "db-migration"
    )
    assert run_json("service=db", "--at", "2026-12-01T05:00:00")["suppressed_by"] is None


def test_fields_build_tags_labels_and_overrides(example: None) -> None:
    report = run_json("tags=web,deploy", "label.env=prod")
    assert report["routes"] == ["deploys"]
    report = run_json("tags=deploy", "env=dev")  # an unknown field name is a label
    assert report["routes"] == ["default"]
    report = run_json(
        "channels=ops-email,nope", "recipients=dev@x.com", "template=deployment_complete"
    )
    assert [(d["channel"], d["recipient"], d["template"]) for d in report["deliveries"]] == [
        ("ops-email", "dev@x.com", "deployment_complete@1.0")
    ]
    assert report["unknown_channels"] == ["nope"]


def test_a_refused_recipient_shows_the_rejection_and_no_deliveries(example: None) -> None:
    # The example's ops-email allows *@x.com: x@evil.com is neither allowed nor known.
    report = run_json("priority=low", "recipients=dev@x.com,x@evil.com")
    assert report["routes"] == ["low"]
    assert report["deliveries"] == []
    assert report["rejected"] == [
        "recipient 'x@evil.com' is not allowed on channel 'ops-email': not a known recipient "
        "and allow_recipients has no pattern for it"
    ]
    assert run_json("priority=low", "recipients=dev@x.com")["rejected"] == []
    result = run("priority=low", "recipients=x@evil.com")
    assert result.exit_code == 0, result.output
    assert "rejected (nothing would be sent): recipient 'x@evil.com' is not allowed" in (
        " ".join(result.output.split())
    )


def test_unknown_template_is_flagged(example: None) -> None:
    report = run_json("template=nosuch@2")
    assert report["deliveries"][0]["template"] == "nosuch@2"
    assert "no such template" in report["deliveries"][0]["template_error"]


def test_json_request_from_stdin_with_field_overrides(example: None) -> None:
    body = json.dumps({"id": "from-json", "title": "Disk", "message": "full", "priority": "low"})
    report = run_json("--json", "-", stdin=body)
    assert (report["request_id"], report["routes"]) == ("from-json", ["low"])
    report = run_json("--json", "-", "severity=critical", stdin=body)
    assert report["routes"] == ["critical", "low"]


def test_json_request_from_a_file(example: None, tmp_path: Path) -> None:
    path = tmp_path / "req.json"
    path.write_text(json.dumps({"template": "incident_alert", "severity": "critical"}))
    report = run_json("--json", str(path))
    assert {d["template_from"] for d in report["deliveries"]} == {"request"}


def test_table_output(example: None) -> None:
    result = run("severity=critical", "source=maintenance:x", "--at", SATURDAY_NIGHT)
    assert result.exit_code == 0, result.output
    for text in (
        "critical → default",
        "ops-slack",
        "#incidents",
        "pagerduty",
        "critical-incident",
        "weekly-maintenance",
    ):
        assert text in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["severity"], None, "is not FIELD=VALUE"),
        (["=critical"], None, "is not FIELD=VALUE"),
        (["--at", "next tuesday"], None, "not an ISO-8601 time"),
        (["severity=urgent"], None, "does not match the request schema"),
        (["--json", "-"], "{not json", "not valid JSON"),
        (["--json", "-"], "[1, 2]", "a request is a JSON object"),
        (["--json", "-"], '{"title": 5}', "does not match the request schema"),
        (["--json", "/nonexistent/req.json"], None, "/nonexistent/req.json"),
        (["--format", "yaml"], None, "yaml"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(
    example: None, args: list[str], stdin: str | None, message: str
) -> None:
    result = CliRunner().invoke(routes, ["test", *args], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_config_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "missing"), "severity=critical")
    assert result.exit_code == 2
    assert "does not exist" in result.output


# --- through the real loader ---------------------------------------------------------------

EXAMPLE_ROUTES_YAML = """\
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    default_recipients: ["#ops"]
  ops-email:
    type: email
    transport: smtp
    host: ${SMTP_HOST}
    port: 587
    from: notifications@company.com
    default_recipients: ["ops@company.com"]
  pager: {type: pagerduty, routing_key: "${PAGERDUTY_ROUTING_KEY}"}
routes:
  - name: critical
    matchers: ['severity="critical"']
    channels: [ops-slack, pager]
    recipients: ["#incidents"]
    escalation: critical-incident
    template: incident_alert
    continue: true
  - name: deploys
    matchers: ['tags=~"deploy.*"', 'env!="dev"']
    channels: [ops-slack]
  - name: low
    matchers: ['priority="low"']
    channels: [ops-email]
  - name: default
    channels: [ops-slack]
suppressions:
  - name: weekly-maintenance
    matchers: ['source=~"maintenance:.*"']
    cron: "0 2 * * SAT"
    duration: 4h
    timezone: Europe/Berlin
"""
POLICY_YAML = """\
name: Critical incident
levels:
  - after: 0m
    channels: [ops-slack, pager]
    recipients: ["@on-call-primary"]
"""
TEMPLATE_YAML = """\
variables: {type: object}
examples:
  - {}
subject: "Incident: {{ title }}"
text: "{{ message }}"
"""


def test_against_a_config_directory_through_the_loader(tmp_path: Path) -> None:
    pytest.importorskip("notifierd.validation")
    (tmp_path / "policies").mkdir()
    (tmp_path / "templates" / "incident_alert").mkdir(parents=True)
    (tmp_path / "routes.yaml").write_text(EXAMPLE_ROUTES_YAML)
    (tmp_path / "policies" / "critical-incident.yaml").write_text(POLICY_YAML)
    (tmp_path / "templates" / "incident_alert" / "1.0.yaml").write_text(TEMPLATE_YAML)
    result = run(
        "--config",
        str(tmp_path),
        "severity=critical",
        "source=maintenance:x",
        "--at",
        SATURDAY_NIGHT,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["routes"] == ["critical", "default"]
    assert [(d["channel"], d["recipient"], d["template"]) for d in report["deliveries"]] == [
        ("ops-slack", "#incidents", "incident_alert@1.0"),
        ("pager", None, "incident_alert@1.0"),
        ("ops-slack", "#ops", None),
    ]
    assert report["escalation_known"] is True
    assert report["suppressed_by"]["name"] == "weekly-maintenance"
