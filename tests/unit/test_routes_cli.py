"""``notifierd routes test``: what a config author sees, as table and as JSON, and usage errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from notifierd.cli import common
from notifierd.cli.routes import routes
from tests.unit.builders import example_snapshot, example_snapshot_with, requiring_template

SATURDAY_NIGHT = "2026-12-05T02:30:00Z"  # inside weekly-maintenance (02:00-06:00 Berlin)


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve PRODUCT.md's example config without going through the loader."""
    monkeypatch.setattr(common, "load_or_exit", lambda _dir: example_snapshot())


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(routes, ["test", *args], input=stdin)


def run_json(*args: str, stdin: str | None = None, code: int = 0) -> dict[str, Any]:
    result = run(*args, "--format", "json", stdin=stdin)
    assert result.exit_code == code, result.output
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
            "status": "queued",
        },
        {
            "channel": "pager",
            "type": "pagerduty",
            "recipient": None,
            "template": "incident_alert@1.0",
            "template_from": "route",
            "route": "critical",
            "status": "queued",
        },
        {
            "channel": "ops-slack",
            "type": "slack",
            "recipient": "#ops",
            "template": None,
            "template_from": "none",
            "route": "default",
            "status": "queued",
        },
    ]
    assert report["escalation"] == "critical-incident"
    assert report["escalation_known"] is True
    assert report["suppressed_by"] is None
    assert report["unknown_channels"] == []
    assert (report["outcome"], report["failures"], report["warnings"]) == ("routed", [], [])
    assert report["escalates"] is False  # a notification: only an alert escalates


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
        "channels=ops-email,nope",
        "recipients=dev@x.com",
        "template=deployment_complete",
        code=1,  # the daemon dead-letters the delivery to 'nope'
    )
    assert [(d["channel"], d["recipient"], d["template"]) for d in report["deliveries"]] == [
        ("ops-email", "dev@x.com", "deployment_complete@1.0")
    ]
    assert report["unknown_channels"] == ["nope"]


def test_a_refused_recipient_shows_the_rejection_and_no_deliveries(example: None) -> None:
    # The example's ops-email allows *@x.com: x@evil.com is neither allowed nor known.
    report = run_json("priority=low", "recipients=dev@x.com,x@evil.com", code=1)
    assert report["routes"] == ["low"]
    assert report["deliveries"] == []
    assert report["rejected"] == [
        "recipient 'x@evil.com' is not allowed on channel 'ops-email': not a known recipient "
        "and allow_recipients has no pattern for it"
    ]
    assert run_json("priority=low", "recipients=dev@x.com")["rejected"] == []
    assert report["outcome"] == "rejected"
    assert [f["message"] for f in report["failures"]] == report["rejected"]
    result = run("priority=low", "recipients=x@evil.com")
    assert result.exit_code == 1, result.output
    assert "failure: recipient 'x@evil.com' is not allowed" in " ".join(result.output.split())


def test_unknown_template_is_a_failure(example: None) -> None:
    report = run_json("template=nosuch@2", code=1)
    delivery = report["deliveries"][0]
    assert (delivery["template"], delivery["status"]) == ("nosuch@2", "dead")
    assert delivery["error"] == (
        "template nosuch@2 cannot render this request: unknown template 'nosuch' "
        "(templates: deployment_complete, incident_alert)"
    )
    assert [f["message"] for f in report["failures"]] == [delivery["error"]]


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
        (["--json", "-"], "{not json", "not valid JSON"),
        (["--json", "-"], "[1, 2]", "a request is a JSON object"),
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


# --- what the daemon would do: failures exit 1, warnings do not ----------------------------


def flat(output: str) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture
def strict_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example config whose deployment_complete and incident_alert need variables."""
    snapshot = example_snapshot_with(
        requiring_template("deployment_complete", "environment", "version"),
        requiring_template("incident_alert", "service"),
    )
    monkeypatch.setattr(common, "load_or_exit", lambda _dir: snapshot)


def test_a_channel_naming_no_channel_fails_as_the_daemon_dead_letters_it(example: None) -> None:
    result = run("channels=ops-slack,slak")
    assert result.exit_code == 1, result.output
    assert "failure: slak: unknown channel 'slak': no channel of that name in config" in (
        flat(result.output)
    )
    report = run_json("channels=ops-slack,slak", code=1)
    assert [(f["channel"], f["message"].split(":")[0]) for f in report["failures"]] == [
        ("slak", "unknown channel 'slak'")
    ]
    assert [d["channel"] for d in report["deliveries"]] == ["ops-slack"]


def test_a_channel_type_with_nowhere_to_go_fails_as_the_daemon_rejects_it(example: None) -> None:
    result = run("channels=teams")
    assert result.exit_code == 1, result.output
    assert (
        "no channel of type teams: the routes chose none and no teams channel is default: true"
    ) in flat(result.output)


def test_a_named_template_missing_variables_fails_with_the_templates_error(
    strict_templates: None,
) -> None:
    result = run("template=deployment_complete", "context.environment=prod")
    assert result.exit_code == 1, result.output
    assert (
        "failure: ops-slack → #ops: template deployment_complete cannot render this request: "
        "missing required variable 'version'"
    ) in flat(result.output)
    good = run("template=deployment_complete", "context.environment=prod", "context.version=2")
    assert good.exit_code == 0, good.output


def test_a_route_template_that_cannot_render_is_a_warning(strict_templates: None) -> None:
    result = run("severity=critical")
    assert result.exit_code == 0, result.output
    assert "warning: ops-slack → #incidents: route template incident_alert" in flat(result.output)
    report = run_json("severity=critical")
    assert report["failures"] == []
    assert {w["channel"] for w in report["warnings"]} == {"ops-slack", "pager"}


@pytest.mark.parametrize(
    ("action", "effect"), [("acknowledge", "acknowledges"), ("resolve", "resolves")]
)
def test_an_alert_action_says_which_alert_it_acts_on(
    example: None, action: str, effect: str
) -> None:
    result = run("kind=alert", f"action={action}", "dedup_key=db-down", "severity=critical")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    assert (
        f"acts on the open alert with id or dedup_key 'db-down', it is not routed; it {effect}"
        in text
    )
    assert "routes:" not in text
    report = run_json("kind=alert", f"action={action}", "dedup_key=db-down")
    assert report["alert_action"] == {"action": action, "dedup_key": "db-down"}
    assert (report["routes"], report["deliveries"], report["failures"]) == ([], [], [])


def test_an_alert_action_without_dedup_key_fails(example: None) -> None:
    result = run("kind=alert", "action=resolve")
    assert result.exit_code == 1, result.output
    assert "failure: a resolve request names its alert with dedup_key" in flat(result.output)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["severity=urgent"],
            None,
            "'severity' must be one of: info, warning, error, critical; got string 'urgent'",
        ),
        (["--json", "-"], '{"title": 5}', "'title' must be a string, not number 5"),
        (["--json", "-"], '{"title": "t", "colour": "red"}', "unknown key 'colour' in the request"),
        (
            ["priority=" + "p" * 300],
            None,
            "'priority' must be one of: low, medium, high, critical; got string '"
            + "p" * 37
            + "...'",
        ),
    ],
)
def test_a_request_the_daemon_rejects_fails_in_sends_words(
    example: None, args: list[str], stdin: str | None, message: str
) -> None:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 1, result.output
    text = flat(result.output)
    assert f"failure: {message}" in text
    assert "p" * 300 not in text and "is not one of" not in text and "Traceback" not in text
    report = run_json(*args, stdin=stdin, code=1)
    assert report["outcome"] == "rejected"
    assert message in report["failures"][0]["message"]


def test_a_recipient_that_fits_no_channel_warns_and_exits_0(example: None) -> None:
    result = run("priority=low", "recipients=#ops")
    assert result.exit_code == 0, result.output
    assert (
        "warning: recipient '#ops' fits none of the request's channels (ops-email): nothing is "
        "sent to it; a channel no recipient fits gets its default_recipients"
    ) in flat(result.output)
    report = run_json("priority=low", "recipients=#ops")
    assert report["failures"] == []
    assert [w["message"] for w in report["warnings"]] == [report["deliveries"][0]["note"]]
    assert report["deliveries"][0]["recipient"] == "ops@company.com"


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


def test_a_schedule_with_nobody_on_call_is_a_failure(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "config"
    config = tmp_path / "config"
    shutil.copytree(shipped, config)
    primary = config / "schedules" / "on-call-primary.yaml"
    text = primary.read_text().replace('fallback: ["#incidents"]', "")
    primary.write_text(text)
    ask = ["--config", str(config), "protocol=CA-CS-NotifyHuman", "--format", "json"]
    # Before the rotation's first handoff nobody is on call: the daemon would dead-letter it.
    before = CliRunner().invoke(routes, ["test", *ask, "--at", "2026-01-01T12:00:00Z"])
    report = json.loads(before.output)
    assert {"message": "nobody on call for schedule on-call-primary"}.items() <= report["failures"][
        0
    ].items()
    after = CliRunner().invoke(routes, ["test", *ask, "--at", "2026-06-01T12:00:00Z"])
    assert json.loads(after.output)["failures"] == []
