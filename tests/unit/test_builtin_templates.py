"""The five shipped templates: every example renders for every channel type, with real content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from notifierd.config.model import CHANNEL_TYPES, TemplateVersion
from notifierd.request import Request
from notifierd.templates import (
    TemplateContextError,
    compile_template,
    render_examples,
    undeclared_variables,
)
from notifierd.templates.markup import slack_escape, teams_escape
from notifierd.templates.slack import validate_blocks

TEMPLATES = Path(__file__).resolve().parents[2] / "config" / "templates"
SCHEMA_LINE = "# yaml-language-server: $schema=../../../schemas/template.schema.json"
BUILTINS = [
    "deployment_complete",
    "incident_alert",
    "pr_notification",
    "sprint_update",
    "postmortem_complete",
]
# The seed's variables: (required, optional).
SEED_VARIABLES = {
    "deployment_complete": (
        {"environment", "version", "deployer"},
        {"duration", "status", "changes"},
    ),
    "incident_alert": (
        {"title", "severity", "description"},
        {"affected_systems", "incident_id", "responder"},
    ),
    "pr_notification": (
        {"pr_number", "title", "author", "repository", "url"},
        {"reviewers", "labels"},
    ),
    "sprint_update": (
        {"sprint_name", "status", "team"},
        {"completed_stories", "total_stories", "velocity", "highlights"},
    ),
    "postmortem_complete": (
        {"incident_title", "incident_id", "date", "duration", "impact", "root_cause"},
        {"action_items", "postmortem_url"},
    ),
}


def load_version(path: Path) -> TemplateVersion:
    """A template file as the loader builds it: name and version from the path."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return TemplateVersion(
        name=path.parent.name,
        version=path.stem,
        subject=data["subject"],
        text=data["text"],
        variables=data.get("variables") or {},
        examples=tuple(data.get("examples") or ()),
        description=data.get("description"),
        category=data.get("category"),
        slack=data.get("slack"),
        html=data.get("html"),
        teams=data.get("teams"),
        path=str(path),
    )


ALL_FILES = sorted(TEMPLATES.glob("*/*.yaml"))
IDS = [f"{p.parent.name}@{p.stem}" for p in ALL_FILES]


def test_the_five_builtins_ship_and_one_has_a_second_version() -> None:
    names = {p.parent.name for p in ALL_FILES}
    assert set(BUILTINS) <= names
    assert all((TEMPLATES / name / "1.0.yaml").is_file() for name in BUILTINS)
    assert (TEMPLATES / "deployment_complete" / "2.0.yaml").is_file()


@pytest.mark.parametrize("path", ALL_FILES, ids=IDS)
def test_file_points_editors_at_the_schema(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE


@pytest.mark.parametrize("name", BUILTINS)
def test_variables_are_the_seeds(name: str) -> None:
    tv = load_version(TEMPLATES / name / "1.0.yaml")
    required, optional = SEED_VARIABLES[name]
    assert set(tv.variables["required"]) == required
    assert set(tv.variables["properties"]) == required | optional
    assert tv.slack is not None and tv.html is not None
    assert tv.examples


@pytest.mark.parametrize("path", ALL_FILES, ids=IDS)
def test_every_example_renders_for_every_variant_without_problems(path: Path) -> None:
    tv = load_version(path)
    compiled = compile_template(tv)
    assert render_examples(compiled) == []
    assert undeclared_variables(compiled) == set()


def strings(value: Any) -> list[str]:
    """Every string inside ``value``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


@pytest.mark.parametrize("path", ALL_FILES, ids=IDS)
def test_every_example_renders_for_every_channel_type(path: Path) -> None:
    tv = load_version(path)
    compiled = compile_template(tv)
    for example in tv.examples:
        for channel_type in CHANNEL_TYPES:
            message = compiled.render(example, channel_type, base={"id": "req-1"})
            content = message.for_channel(channel_type)
            assert message.subject and message.text
            # Slack and Teams get the subject escaped for their markup.
            escape = {"slack": slack_escape, "teams": teams_escape}.get(channel_type, str)
            subject = escape(message.subject)
            assert any(subject in text for text in strings(content))
            if channel_type == "slack":
                assert content["blocks"] and validate_blocks(content["blocks"]) == []
                assert content["text"] == subject


def test_deployment_complete_reads_like_the_seed() -> None:
    tv = load_version(TEMPLATES / "deployment_complete" / "1.0.yaml")
    message = compile_template(tv).render(tv.examples[0])
    assert message.subject == "Deployment Complete: production"
    assert message.text == (
        "Version: v2.1.0\n"
        "Deployed by: Alice\n"
        "Duration: 5m 23s\n"
        "Status: ✅ success\n"
        "\n"
        "Changes:\n"
        "• Fix login bug\n"
        "• Add new feature\n"
        "• Update dependencies"
    )
    assert message.html is not None and "<code>v2.1.0</code>" in message.html
    blocks = message.slack_blocks or []
    assert blocks[0]["text"]["text"] == "Deployment Complete: production"
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert "*Version:*\n`v2.1.0`" in fields


def test_deployment_complete_status_defaults_to_success() -> None:
    tv = load_version(TEMPLATES / "deployment_complete" / "1.0.yaml")
    context = {"environment": "staging", "version": "v3", "deployer": "Cy"}
    assert "Status: ✅ success" in compile_template(tv).render(context, "email").text


def test_deployment_complete_requires_the_deployer() -> None:
    tv = load_version(TEMPLATES / "deployment_complete" / "1.0.yaml")
    with pytest.raises(TemplateContextError, match="missing required variable 'deployer'"):
        compile_template(tv).render({"environment": "staging", "version": "v3"})


def test_deployment_complete_2_0_adds_duration_formatting_and_rollback() -> None:
    tv = load_version(TEMPLATES / "deployment_complete" / "2.0.yaml")
    message = compile_template(tv).render(tv.examples[0])
    assert message.subject == "✅ Deployment Complete: api-server v2.1.0 → production"
    assert "Duration: 5m 23s" in message.text  # 323 seconds
    assert "Roll back: https://deploy.company.com/api-server/rollback?to=v2.0.3" in message.text
    buttons = next(b for b in message.slack_blocks or [] if b["type"] == "actions")["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Release notes", "Roll back"]


def test_incident_alert_has_ack_escalate_and_resolve_buttons_carrying_the_request_id() -> None:
    tv = load_version(TEMPLATES / "incident_alert" / "1.0.yaml")
    request = Request.from_dict(
        {
            "id": "alert-42",
            "kind": "alert",
            "title": "ignored: the context's title wins",
            "severity": "critical",
            "template": "incident_alert",
            "context": dict(tv.examples[0]),
        }
    )
    message = compile_template(tv).render_request(request, "slack")
    assert message.subject == "🔴 [CRITICAL] Incident: Database Connection Failure"
    (actions,) = [b for b in message.slack_blocks or [] if b["type"] == "actions"]
    assert [(b["action_id"], b["value"]) for b in actions["elements"]] == [
        ("notifierd_ack", "alert-42"),
        ("notifierd_escalate", "alert-42"),
        ("notifierd_resolve", "alert-42"),
    ]
    assert [b["text"]["text"] for b in actions["elements"]] == [
        "Acknowledge",
        "Escalate",
        "Resolve",
    ]


def test_incident_alert_takes_title_and_severity_from_the_request() -> None:
    tv = load_version(TEMPLATES / "incident_alert" / "1.0.yaml")
    request = Request.from_dict(
        {
            "title": "Queue backlog growing",
            "message": "m",
            "severity": "error",
            "context": {"description": "12k jobs waiting"},
        }
    )
    message = compile_template(tv).render_request(request, "teams")
    assert message.subject == "🟠 [ERROR] Incident: Queue backlog growing"
    card = message.for_channel("teams")["card"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][1]["text"] == "12k jobs waiting"
    facts = card["body"][2]["facts"]
    assert facts == [{"title": "Severity", "value": "ERROR"}]  # optional facts left out


def test_incident_alert_escapes_html_and_slack_markup_from_variables() -> None:
    tv = load_version(TEMPLATES / "incident_alert" / "1.0.yaml")
    context = {"title": "x", "severity": "high", "description": "<script>alert(1)</script> & co"}
    message = compile_template(tv).render(context)
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in message.html
    assert "&lt;script&gt;" in str(message.slack_blocks)
    assert "<script>alert(1)</script> & co" in message.text  # plain text stays plain


def test_pr_notification_links_the_pull_request() -> None:
    tv = load_version(TEMPLATES / "pr_notification" / "1.0.yaml")
    message = compile_template(tv).render(tv.examples[0])
    assert message.subject == "PR #123 in api-server: Fix authentication bug"
    assert "Reviewers: alice, charlie" in message.text
    assert "Labels: bug, high-priority" in message.text
    first = (message.slack_blocks or [])[0]
    assert first["text"]["text"].startswith(
        "*<https://github.com/company/api-server/pull/123|#123 Fix authentication bug>*"
    )
    assert first["accessory"]["url"] == "https://github.com/company/api-server/pull/123"


def test_pr_notification_ignores_request_labels_mapping() -> None:
    tv = load_version(TEMPLATES / "pr_notification" / "1.0.yaml")
    context = {k: v for k, v in tv.examples[0].items() if k != "labels"}
    request = Request.from_dict(
        {"template": "pr_notification", "context": context, "labels": {"team": "web"}}
    )
    message = compile_template(tv).render_request(request, "email")
    assert "Labels:" not in message.text


def test_sprint_update_computes_completion() -> None:
    tv = load_version(TEMPLATES / "sprint_update" / "1.0.yaml")
    message = compile_template(tv).render(tv.examples[0])
    assert message.subject == "Sprint 24 completed: Platform Team"
    assert "Stories: 18/20 completed (90%)" in message.text
    assert "Velocity: 45 points" in message.text
    assert "• Reduced API latency by 40%" in message.text


def test_postmortem_complete_lists_action_items() -> None:
    tv = load_version(TEMPLATES / "postmortem_complete" / "1.0.yaml")
    message = compile_template(tv).render(tv.examples[0])
    assert message.subject == "Postmortem Complete: API Service Outage (INC-2024-001)"
    assert "Duration: 2h 15m" in message.text
    assert (
        "1. Implement connection pool monitoring\n2. Add automated leak detection" in message.text
    )
    assert "https://docs.company.com/postmortems/2024-001" in (message.html or "")
