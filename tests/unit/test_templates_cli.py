"""``notifierd template list|render`` against the shipped templates."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import CliRunner

from notifierd.cli import template as template_cli
from notifierd.config.model import Channel, Settings, Snapshot, SnapshotId, TemplateVersion
from tests.unit.test_builtin_templates import ALL_FILES, load_version


def shipped_snapshot() -> Snapshot:
    # Built here rather than by the loader, so these tests need only the template files.
    templates: dict[str, list[TemplateVersion]] = {}
    for path in ALL_FILES:
        tv = load_version(path)
        templates.setdefault(tv.name, []).append(tv)
    return Snapshot(
        root=Path("config"),
        identity=SnapshotId("0" * 64),
        settings=Settings(),
        channels=MappingProxyType(
            {"ops-slack": Channel("ops-slack", "slack", MappingProxyType({}), ("#ops",))}
        ),
        routes=(),
        rate_limits=(),
        suppressions=(),
        policies=MappingProxyType({}),
        templates=MappingProxyType({k: tuple(v) for k, v in templates.items()}),
    )


@pytest.fixture(autouse=True)
def _snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = shipped_snapshot()
    monkeypatch.setattr(template_cli.common, "load_or_exit", lambda config_dir: snapshot)


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(template_cli.template, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_list_json_names_versions_and_categories() -> None:
    code, out, _ = run("list", "--format", "json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["deployment_complete"]["versions"] == ["1.0", "2.0"]
    assert rows["deployment_complete"]["newest"] == "2.0"
    assert rows["incident_alert"]["category"] == "incident"
    assert rows["incident_alert"]["variants"] == ["slack", "html", "teams"]
    assert rows["pr_notification"]["required"] == [
        "pr_number",
        "title",
        "author",
        "repository",
        "url",
    ]


def test_list_filters_by_category_and_prints_a_table() -> None:
    code, out, _ = run("list", "--category", "SPRINT")
    assert code == 0
    assert "sprint_update" in out and "incident_alert" not in out


def test_render_every_channel_type_from_the_first_example() -> None:
    code, out, _ = run("render", "incident_alert", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["template"] == "incident_alert@1.0"
    channels = report["channels"]
    assert set(channels) == {"slack", "email", "teams", "pagerduty", "webhook", "sms"}
    assert channels["email"]["subject"] == "🔴 [CRITICAL] Incident: Database Connection Failure"
    assert "&lt;" not in channels["email"]["html"]
    assert channels["pagerduty"]["summary"] == channels["email"]["subject"]
    actions = next(b for b in channels["slack"]["blocks"] if b["type"] == "actions")
    assert actions["elements"][0]["value"] == "preview"
    assert channels["teams"]["card"]["type"] == "AdaptiveCard"


def test_render_pinned_version_with_context_for_a_named_channel() -> None:
    context = {"environment": "prod", "version": "v9", "deployer": "Dee"}
    code, out, _ = run(
        "render",
        "deployment_complete@1.0",
        "--context",
        json.dumps(context),
        "--channel",
        "ops-slack",
    )
    assert code == 0
    assert "deployment_complete@1.0 → ops-slack (slack)" in out
    assert "Deployment Complete: prod" in out and "`v9`" in out


def test_render_context_from_a_file_over_an_example(tmp_path: Path) -> None:
    path = tmp_path / "ctx.json"
    path.write_text('{"deployer": "Zed"}')
    code, out, _ = run(
        "render", "deployment_complete@1.0", "--example", "2", "--context", f"@{path}",
        "--channel", "email", "--format", "json",
    )  # fmt: skip
    assert code == 0
    email = json.loads(out)["channels"]["email"]
    assert email["subject"] == "Deployment Complete: staging"
    assert "Deployed by: Zed" in email["text"]


def test_render_context_from_stdin() -> None:
    context = {"environment": "qa", "version": "v1", "deployer": "Ann"}
    code, out, _ = run(
        "render", "deployment_complete", "--context", "@-", "--channel", "sms",
        input=json.dumps(context),
    )  # fmt: skip
    assert code == 0
    assert "Deployment Complete: v1 → qa" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["render", "nope"], 1, "unknown template 'nope'"),
        (["render", "deployment_complete@9.9"], 1, "has no version '9.9' (versions: 1.0, 2.0)"),
        (["render", "deployment_complete", "--context", "{bad"], 1, "not valid JSON"),
        (["render", "deployment_complete", "--context", "[1]"], 1, "must be a JSON object"),
        (
            ["render", "deployment_complete", "--context", "{}"],
            1,
            "missing required variable 'environment'",
        ),
        (["render", "deployment_complete", "--channel", "fax"], 2, "neither a channel type"),
        (["render", "deployment_complete", "--example", "7"], 2, "there is no example 7"),
        (["render", "deployment_complete", "--example", "0"], 2, "--example"),
    ],
)
def test_render_errors_are_one_clear_line(args: list[str], code: int, message: str) -> None:
    exit_code, out, err = run(*args)
    assert exit_code == code
    assert message in err
    assert "Traceback" not in err + out


def test_list_with_an_unknown_category_lists_nothing_and_names_the_categories() -> None:
    code, out, err = run("list", "--category", "nope", "--format", "json")
    assert code == 0
    assert json.loads(out) == []
    assert err.strip() == (
        "no template has category 'nope'; "
        "categories: code_review, deployment, incident, postmortem, sprint"
    )


def test_render_with_context_alone_uses_just_that_context() -> None:
    """As --context's help says: without --example, the example is not laid under it."""
    context = {"environment": "qa", "version": "v1", "deployer": "Ann"}
    code, out, _ = run(
        "render", "deployment_complete", "--context", json.dumps(context),
        "--channel", "email", "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["context"] == context
    text = json.loads(out)["channels"]["email"]["text"]
    assert "Deployed by: Ann" in text and "api-server" not in text  # nothing from example 1


def test_render_with_a_partial_context_says_how_to_start_from_an_example() -> None:
    code, _, err = run("render", "deployment_complete", "--context", '{"environment": "qa"}')
    assert code == 1
    assert "missing required variable 'version'" in err
    assert "add --example 1 to lay --context over an example" in err
    laid = run(
        "render", "deployment_complete", "--context", '{"environment": "qa"}', "--example", "1",
        "--channel", "email", "--format", "json",
    )  # fmt: skip
    assert laid[0] == 0 and "Deployed by: Alice" in json.loads(laid[1])["channels"]["email"]["text"]


def test_render_help_says_what_context_does_without_example() -> None:
    _, out, _ = run("render", "--help")
    assert "Alone it is the whole context" in " ".join(out.split())
