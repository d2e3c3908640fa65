"""Template compiling, rendering per channel type, the sandbox, and the problems validate sees."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from notifierd.config.model import Settings, Snapshot, SnapshotId, TemplateVersion
from notifierd.http.slack import ACTIONS
from notifierd.request import Request, TemplateRef
from notifierd.templates import (
    TemplateCatalog,
    TemplateCompileError,
    TemplateContextError,
    TemplateNotFound,
    TemplateRenderError,
    TemplateSecurityError,
    compile_template,
    render_examples,
    render_plain,
    undeclared_problems,
    undeclared_variables,
)
from notifierd.templates.compiler import compiled_for
from notifierd.templates.filters import (
    date_format,
    duration_format,
    number_format,
    pluralize,
    slack_escape,
    slack_mention,
)
from notifierd.templates.markup import mention_scope
from notifierd.templates.message import SMS_MAX
from notifierd.templates.slack import validate_blocks

DEPLOY_VARIABLES = {
    "type": "object",
    "required": ["environment", "version", "deployer"],
    "properties": {
        "environment": {"type": "string"},
        "version": {"type": "string"},
        "deployer": {"type": "string"},
        "status": {"type": "string", "default": "success"},
        "changes": {"type": "array", "items": {"type": "string"}},
    },
}
DEPLOY_EXAMPLE = {
    "environment": "production",
    "version": "v2.1.0",
    "deployer": "Alice",
    "changes": ["Fix login bug"],
}


def make(
    name: str = "deployment_complete",
    version: str = "1.0",
    subject: str = "Deployment Complete: {{ environment }}",
    text: str = (
        "Version: {{ version }}\nDeployed by: {{ deployer }}\nStatus: {{ status }}\n"
        "{% for c in changes %}• {{ c }}\n{% endfor %}"
    ),
    variables: dict[str, Any] | None = None,
    examples: tuple[dict[str, Any], ...] = (DEPLOY_EXAMPLE,),
    **variants: Any,
) -> TemplateVersion:
    return TemplateVersion(
        name=name,
        version=version,
        subject=subject,
        text=text,
        variables=DEPLOY_VARIABLES if variables is None else variables,
        examples=examples,
        **variants,
    )


def render_text(text: str, context: dict[str, Any] | None = None, **kw: Any) -> str:
    tv = make(subject="s", text=text, variables={"type": "object"}, examples=(), **kw)
    return compile_template(tv).render(context or {}).text


# -- rendering ----------------------------------------------------------------------------------


def test_renders_subject_and_text_with_defaults_applied() -> None:
    message = compile_template(make()).render(DEPLOY_EXAMPLE)
    assert message.subject == "Deployment Complete: production"
    assert message.text == "Version: v2.1.0\nDeployed by: Alice\nStatus: success\n• Fix login bug"
    assert message.template == "deployment_complete@1.0"


def test_context_overrides_defaults_and_request_fields() -> None:
    compiled = compile_template(make(subject="{{ title }}: {{ status }}"))
    context = {**DEPLOY_EXAMPLE, "status": "failed", "title": "from context"}
    message = compiled.render(context, base={"title": "from request"})
    assert message.subject == "from context: failed"
    assert compiled.render(DEPLOY_EXAMPLE, base={"title": "from request"}).subject == (
        "from request: success"
    )


def test_missing_required_variable_is_named() -> None:
    compiled = compile_template(make())
    with pytest.raises(TemplateContextError) as info:
        compiled.render({"environment": "prod", "version": "v1"})
    assert "missing required variable 'deployer'" in str(info.value)
    assert info.value.problems[0].location == ()


def test_wrong_type_is_reported_with_its_path() -> None:
    compiled = compile_template(make())
    with pytest.raises(TemplateContextError) as info:
        compiled.render({**DEPLOY_EXAMPLE, "changes": "not a list"})
    assert "variable 'changes'" in str(info.value)
    assert info.value.problems[0].location == ("changes",)


def test_required_variable_may_come_from_the_request() -> None:
    variables = {
        "type": "object",
        "required": ["title"],
        "properties": {"title": {"type": "string"}},
    }
    compiled = compile_template(make(subject="{{ title }}", text="x", variables=variables))
    request = Request.from_dict({"title": "Disk full", "message": "m", "severity": "warning"})
    assert compiled.render_request(request).subject == "Disk full"


def test_request_field_that_does_not_fit_a_declared_variable_is_not_used() -> None:
    # Request labels are a mapping; this template's `labels` is a list of PR labels.
    variables = {"type": "object", "properties": {"labels": {"type": "array"}}}
    compiled = compile_template(
        make(subject="s", text="[{{ labels|join(',') }}]", variables=variables)
    )
    request = Request.from_dict({"title": "t", "message": "m", "labels": {"team": "web"}})
    assert compiled.render_request(request).text == "[]"
    assert compiled.render({"labels": ["bug"]}).text == "[bug]"


def test_undefined_variable_is_an_error_naming_it_with_its_line() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render_text("line one\nline two {{ not_there }}")
    assert info.value.message == "undefined variable 'not_there'"
    assert info.value.location == ("text",)
    assert info.value.line == 2


def test_declared_optional_variable_renders_empty() -> None:
    compiled = compile_template(make(text="[{{ changes }}]{% if changes %}yes{% endif %}"))
    assert compiled.render({k: v for k, v in DEPLOY_EXAMPLE.items() if k != "changes"}).text == "[]"


def test_absent_request_fields_render_empty_and_null_renders_empty() -> None:
    assert render_text("[{{ message }}][{{ source }}][{{ x }}]", {"x": None}) == "[][][]"


def test_subject_is_one_line_and_text_is_trimmed() -> None:
    compiled = compile_template(make(subject="a\n  b  ", text="\n\nbody   \n\n\n\nend\n\n"))
    message = compiled.render(DEPLOY_EXAMPLE)
    assert message.subject == "a b"
    assert message.text == "body\n\nend"


def test_html_variant_is_autoescaped_and_text_is_not() -> None:
    compiled = compile_template(make(html="<p>{{ deployer }}</p><p>{{ subject }}</p>"))
    message = compiled.render({**DEPLOY_EXAMPLE, "deployer": "<script>x</script>"}, "email")
    assert message.html == (
        "<p>&lt;script&gt;x&lt;/script&gt;</p><p>Deployment Complete: production</p>"
    )
    assert "Deployed by: <script>x</script>" in message.text


def test_html_with_tags_is_autoescaped_too() -> None:
    html = "{% for c in changes %}<li>{{ c }}</li>{% endfor %}{{ changes|join('<br>') }}"
    compiled = compile_template(make(html=html))
    message = compiled.render({**DEPLOY_EXAMPLE, "changes": ["a&b", "<i>"]}, "email")
    assert message.html == "<li>a&amp;b</li><li>&lt;i&gt;</li>a&amp;b&lt;br&gt;&lt;i&gt;"


# -- channel types ------------------------------------------------------------------------------


def test_channel_without_variant_gets_subject_and_text() -> None:
    compiled = compile_template(make())
    slack = compiled.render(DEPLOY_EXAMPLE, "slack").for_channel("slack")
    assert slack["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Deployment Complete: production", "emoji": True},
    }
    assert slack["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "Version: v2.1.0" in slack["blocks"][1]["text"]["text"]
    email = compiled.render(DEPLOY_EXAMPLE, "email").for_channel("email")
    assert email == {
        "subject": "Deployment Complete: production",
        "text": "Version: v2.1.0\nDeployed by: Alice\nStatus: success\n• Fix login bug",
    }
    card = compiled.render(DEPLOY_EXAMPLE, "teams").for_channel("teams")["card"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["text"] == "Deployment Complete: production"
    assert card["body"][1] == {"type": "TextBlock", "text": email["text"], "wrap": True}
    pagerduty = compiled.render(DEPLOY_EXAMPLE, "pagerduty").for_channel("pagerduty")
    assert pagerduty["summary"] == "Deployment Complete: production"
    webhook = compiled.render(DEPLOY_EXAMPLE, "webhook").for_channel("webhook")
    assert webhook["subject"] == email["subject"] and webhook["text"] == email["text"]
    sms = compiled.render(DEPLOY_EXAMPLE, "sms").for_channel("sms")
    assert sms["text"].startswith("Deployment Complete: production\nVersion: v2.1.0")


def test_only_the_channels_variant_is_rendered() -> None:
    compiled = compile_template(make(html="<b>{{ version }}</b>"))
    slack = compiled.render(DEPLOY_EXAMPLE, "slack")
    assert slack.html is None and slack.teams_card is None and slack.slack_blocks
    email = compiled.render(DEPLOY_EXAMPLE, "email")
    assert email.html == "<b>v2.1.0</b>" and email.slack_blocks is None
    assert email.variants == ("html",)


def test_long_subject_and_text_fit_slack_pagerduty_and_sms_limits() -> None:
    compiled = compile_template(make(subject="{{ environment }}", text="{{ version }}"))
    long_line = "word " * 1000
    context = {**DEPLOY_EXAMPLE, "environment": "e" * 2000, "version": (long_line + "\n") * 3}
    blocks = compiled.render(context, "slack").slack_blocks
    assert blocks is not None
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    assert len(blocks) > 2  # the text is split over several sections
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks[1:])
    assert len(compiled.render(context, "pagerduty").summary) == 1024
    assert len(compiled.render(context, "sms").sms_text) == SMS_MAX


def test_fallback_slack_text_is_escaped_for_mrkdwn() -> None:
    compiled = compile_template(make(text="a <b> & c"))
    blocks = compiled.render(DEPLOY_EXAMPLE, "slack").slack_blocks
    assert blocks is not None and blocks[1]["text"]["text"] == "a &lt;b&gt; &amp; c"


def test_slack_variant_string_leaves_and_if_keys() -> None:
    slack = [
        {"type": "header", "text": {"type": "plain_text", "text": "{{ subject }}"}},
        {
            "if": "changes",
            "type": "section",
            "text": {"type": "mrkdwn", "text": "{{ changes|join(', ') }}"},
        },
        {"if": "{{ missing_ok }}", "type": "divider"},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Ack"},
                    "action_id": "notifierd_ack",
                    "value": "{{ id }}",
                }
            ],
        },
    ]
    variables = {
        **DEPLOY_VARIABLES,
        "properties": {**DEPLOY_VARIABLES["properties"], "missing_ok": {}},
    }
    compiled = compile_template(make(slack=slack, variables=variables))
    blocks = compiled.render(DEPLOY_EXAMPLE, "slack", base={"id": "req-7"}).slack_blocks
    assert blocks == [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "Deployment Complete: production"},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "Fix login bug"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Ack"},
                    "action_id": "notifierd_ack",
                    "value": "req-7",
                }
            ],
        },
    ]
    no_changes = {k: v for k, v in DEPLOY_EXAMPLE.items() if k != "changes"}
    assert len(compiled.render(no_changes, "slack").slack_blocks or []) == 2


def test_teams_variant_is_rendered_as_the_card() -> None:
    teams = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": "{{ subject }} by {{ deployer }}", "wrap": True}],
    }
    compiled = compile_template(make(teams=teams))
    card = compiled.render(DEPLOY_EXAMPLE, "teams").for_channel("teams")["card"]
    assert card["body"][0]["text"] == "Deployment Complete: production by Alice"
    assert render_examples(compiled) == []


def test_unknown_channel_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown channel type 'fax'"):
        compile_template(make()).render(DEPLOY_EXAMPLE, "fax")


def test_render_plain_uses_title_and_message() -> None:
    request = Request.from_dict({"title": "Backup done", "message": "All 3 databases.\nOK"})
    message = render_plain(request, "slack")
    assert message.subject == "Backup done" and message.template is None
    assert message.slack_blocks is not None
    assert message.slack_blocks[0]["text"]["text"] == "Backup done"
    assert message.slack_blocks[1]["text"]["text"] == "All 3 databases.\nOK"
    assert render_plain(request, "pagerduty").summary == "Backup done"
    untitled = Request.from_dict({"template": "x", "context": {"a": 1}})
    fallback = render_plain(untitled)
    assert fallback.subject.startswith("notification ") and '"a": 1' in fallback.text
    assert not any(b["type"] == "actions" for b in message.slack_blocks)


def test_an_alert_without_a_template_gets_acknowledge_escalate_and_resolve_buttons() -> None:
    trigger = Request.from_dict(
        {"id": "a-1:r1l2", "kind": "alert", "title": "DB <down>", "message": "x " * 200_000}
    )
    blocks = render_plain(trigger, "slack").slack_blocks
    assert blocks is not None
    validate_blocks(blocks)  # Slack's limits: the buttons fit in beside a very long text
    assert len(blocks) == 50 and blocks[-1]["type"] == "actions"
    assert {e["action_id"]: e["value"] for e in blocks[-1]["elements"]} == {
        "notifierd_ack": "a-1:r1l2",
        "notifierd_escalate": "a-1:r1l2",
        "notifierd_resolve": "a-1:r1l2",
    }
    assert set(ACTIONS) == {e["action_id"] for e in blocks[-1]["elements"]}
    for button in blocks[-1]["elements"][1:]:  # escalate and resolve ask first
        confirm = button["confirm"]["text"]["text"]
        assert "*DB &lt;down&gt;*" in confirm  # mrkdwn: the title cannot inject a mention or link
    assert render_plain(trigger, "email").slack_blocks is None
    for action in ("acknowledge", "resolve"):  # follow-ups: nothing left to press
        follow_up = Request.from_dict(
            {"kind": "alert", "action": action, "dedup_key": "db", "title": "t"}
        )
        assert not any(
            b["type"] == "actions" for b in render_plain(follow_up, "slack").slack_blocks
        )


# -- filters -----------------------------------------------------------------------------------


def test_slack_mention_mentions_only_people_from_the_config() -> None:
    people = frozenset({"U024BE7LH", "W012A3CDE"})
    with mention_scope(people):
        assert slack_mention("U024BE7LH") == "<@U024BE7LH>" == slack_mention("@U024BE7LH")
        assert slack_mention("W012A3CDE") == "<@W012A3CDE>"
        # Anyone else a request names, broadcasts and groups stay text, escaped.
        assert slack_mention("U0BADBAD1") == "U0BADBAD1"
        assert slack_mention("@here") == "@here" and slack_mention("channel") == "channel"
        assert slack_mention("S0614TZR7") == "S0614TZR7"
        assert slack_mention("<!channel>") == "&lt;!channel&gt;"
        assert slack_mention(["@here", "U024BE7LH"]) == "@here <@U024BE7LH>"
    assert slack_mention("U024BE7LH") == "U024BE7LH"  # outside a render for a config: nobody
    tv = make(
        subject="s",
        text="t",
        variables={"type": "object"},
        examples=(),
        slack=[{"type": "section", "text": {"type": "mrkdwn", "text": "{{ who|slack_mention }}"}}],
    )
    who = ["@here", "U024BE7LH", "U0BADBAD1", "<!everyone>"]
    blocks = compile_template(tv).render({"who": who}, "slack", mentionable=people).slack_blocks
    assert blocks == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "@here <@U024BE7LH> U0BADBAD1 &lt;!everyone&gt;"},
        }
    ]


def test_date_format_reads_datetimes_dates_iso_and_epoch() -> None:
    moment = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert date_format(moment) == "2024-01-15 10:30"
    assert date_format(date(2024, 1, 15), "%d %b %Y") == "15 Jan 2024"
    assert date_format("2024-01-15T10:30:00Z") == "2024-01-15 10:30"
    assert date_format("2024-01-15") == "2024-01-15 00:00"
    assert date_format(1705314600) == "2024-01-15 10:30"
    assert date_format("2024-01-15T10:30:00Z", "%H:%M %Z", "Europe/Berlin") == "11:30 CET"
    with pytest.raises(ValueError, match="date_format: cannot read 'soon'"):
        date_format("soon")


def test_number_duration_plural_and_slack_filters() -> None:
    assert number_format(1234567.891, 2) == "1,234,567.89"
    assert number_format("1234567") == "1,234,567"
    assert number_format(1234567.5, 1, ".", ",") == "1.234.567,5"
    assert duration_format(8100) == "2h 15m"
    assert duration_format(323) == "5m 23s"
    assert duration_format(7200) == "2h"
    assert duration_format(90061) == "1d 1h"
    assert duration_format(0) == "0s"
    assert pluralize(1) == "" and pluralize(2) == "s"
    assert pluralize(1, "story", "stories") == "story"
    assert pluralize([1, 2], "bug") == "bugs"
    assert slack_escape("<a & b>") == "&lt;a &amp; b&gt;"


def test_filters_and_jinja_builtins_inside_templates() -> None:
    text = (
        "{{ when|date_format('%d %b') }} {{ n|number_format }} {{ secs|duration_format }} "
        "{{ n }} stor{{ n|pluralize('y', 'ies') }} {{ name|default('anon')|upper }} "
        "{{ long|truncate(9) }} {{ items|join('+') }} {{ obj|tojson }}"
    )
    context = {
        "when": "2024-01-15T10:30:00Z",
        "n": 12345,
        "secs": 8100,
        "long": "abcdefghijklmnop",
        "items": ["a", "b"],
        "obj": {"k": 1},
    }
    assert render_text(text, context) == (
        '15 Jan 12,345 2h 15m 12345 stories ANON abcdef... a+b {"k": 1}'
    )


def test_filter_errors_are_render_errors() -> None:
    with pytest.raises(TemplateRenderError, match="date_format: cannot read 'nope'"):
        render_text("{{ 'nope'|date_format }}")


# -- the sandbox -------------------------------------------------------------------------------


def test_lipsum_is_not_in_the_sandbox() -> None:
    # lipsum(n) spends seconds of CPU on the event loop for a large n.
    with pytest.raises(TemplateRenderError, match="undefined variable 'lipsum'"):
        render_text("{{ lipsum(5) }}")


@pytest.mark.parametrize(
    ("source", "attribute"),
    [
        ("{{ ''.__class__.__mro__ }}", "__class__"),
        ("{{ cycler.__init__.__globals__ }}", "__init__"),
        ("{{ [].__class__.__base__.__subclasses__() }}", "__class__"),
        ("{{ changes.append(1) }}", "append"),
        ("{% for c in ''.__class__.__mro__ %}{% endfor %}", "__class__"),
        ("{{ joiner.__call__.__globals__ }}", "__call__"),
    ],
)
def test_sandbox_escapes_are_refused_with_a_clear_message(source: str, attribute: str) -> None:
    with pytest.raises(TemplateSecurityError) as info:
        render_text(source, {"changes": []})
    assert f"template tried to access unsafe attribute {attribute!r}" in str(info.value)
    assert info.value.location == ("text",)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 100000000 }}",
        "{{ 'x'.ljust(100000000) }}",
        "{{ 'x'|center(100000000) }}",
        "{{ '%0100000000d' % 1 }}",
        "{{ '{:>100000000}'.format(1) }}",
        "{{ 2 ** 10000000 }}",
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}",
        "{% macro m(s, n) %}{{ m(s ~ s, n - 1) if n else s }}{% endmacro %}{{ m('x', 40) }}",
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    ],
)
def test_runaway_templates_are_stopped(source: str) -> None:
    with pytest.raises(TemplateSecurityError, match=r"too large|loops too much|too deep"):
        render_text(source)


def test_ordinary_numbers_in_format_strings_are_fine() -> None:
    assert render_text("{{ '%d users' % 10000000 }} {{ '{} ok'.format(5) }}") == (
        "10000000 users 5 ok"
    )


# -- compile problems ----------------------------------------------------------------------------


def test_compile_error_has_location_and_line_within_the_piece() -> None:
    slack = [
        {"type": "header", "text": {"type": "plain_text", "text": "{{ subject }}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "ok\n{% if x %}unclosed"}},
    ]
    tv = make(text="line 1\nline 2\n{{ version }\n", html="<p>{{ a | }}</p>", slack=slack)
    with pytest.raises(TemplateCompileError) as info:
        compile_template(tv)
    found = {(p.location, p.line) for p in info.value.problems}
    assert found == {(("text",), 3), (("html",), 1), (("slack", 1, "text", "text"), 2)}
    assert all(p.severity == "error" and p.message for p in info.value.problems)


def test_unknown_filter_is_a_compile_error() -> None:
    with pytest.raises(TemplateCompileError) as info:
        compile_template(make(text="a\n{{ version|nosuchfilter }}"))
    (problem,) = info.value.problems
    assert problem.location == ("text",) and problem.line == 2
    assert "nosuchfilter" in problem.message


def test_bad_if_expression_is_a_compile_error_at_the_if_key() -> None:
    slack = [{"if": "changes and", "type": "divider"}]
    with pytest.raises(TemplateCompileError) as info:
        compile_template(make(slack=slack))
    (problem,) = info.value.problems
    assert problem.location == ("slack", 0, "if")
    assert problem.message.startswith("invalid `if` expression")


def test_include_and_extends_are_refused() -> None:
    with pytest.raises(TemplateCompileError) as info:
        compile_template(make(text="ok\n{% include 'other' %}"))
    (problem,) = info.value.problems
    assert problem.location == ("text",) and problem.line == 2
    assert "{% include %} is not available" in problem.message


def test_render_error_line_maps_into_the_piece_among_many() -> None:
    slack = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "{% for c in changes %}{{ c }}\n{% endfor %}"},
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "a\nb\n{% if 1 %}{{ oops }}{% endif %}"},
        },
    ]
    compiled = compile_template(make(slack=slack))
    with pytest.raises(TemplateRenderError) as info:
        compiled.render(DEPLOY_EXAMPLE, "slack")
    assert info.value.location == ("slack", 1, "text", "text")
    assert info.value.line == 3


# -- validate-time checks ----------------------------------------------------------------------


def test_render_examples_reports_invalid_slack_blocks() -> None:
    slack = [
        {"type": "header", "text": {"type": "plain_text", "text": "{{ subject }}"}},
        {"type": "bogus_block", "text": {"type": "mrkdwn", "text": "x"}},
        {"type": "header", "text": {"type": "mrkdwn", "text": "{{ version }}"}},
        {
            "type": "actions",
            "elements": [{"type": "buton", "text": {"type": "plain_text", "text": "x"}}],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "{{ status if false else '' }}"}},
    ]
    problems = render_examples(compile_template(make(slack=slack)))
    by_location = {p.location: p.message for p in problems}
    assert set(by_location) == {("slack", 1), ("slack", 2), ("slack", 3), ("slack", 4)}
    assert "unknown block type 'bogus_block'" in by_location[("slack", 1)]
    assert "header.text must be plain_text" in by_location[("slack", 2)]
    assert "Unknown element" in by_location[("slack", 3)]
    assert "text is empty" in by_location[("slack", 4)]
    assert all(p.message.endswith("(example 1)") for p in problems)


def test_a_block_seen_before_has_the_same_problems_at_its_own_index() -> None:
    bad = {"type": "actions", "elements": [{"type": "buton", "text": {"type": "plain_text"}}]}
    good = {"type": "section", "text": {"type": "mrkdwn", "text": "fine"}}
    first = validate_blocks([dict(bad)])
    again = validate_blocks([good, dict(bad), bad])  # remembered, by content
    assert first and [m for _, m in first] == [
        m.replace("block 1", "block 0") for _, m in again[: len(first)]
    ]
    assert [i for i, _ in again] == [1] * len(first) + [2] * len(first)
    assert all(m.startswith("block 2 (actions): ") for _, m in again[len(first) :])
    assert validate_blocks([good]) == []


def test_render_examples_checks_examples_against_variables() -> None:
    tv = make(examples=({"environment": "prod", "version": 2}, {**DEPLOY_EXAMPLE}))
    problems = render_examples(compile_template(tv))
    assert [(p.location, p.message) for p in problems] == [
        (("examples", 0), "missing required variable 'deployer' (example 1)"),
        (("examples", 0, "version"), "variable 'version': 2 is not of type 'string' (example 1)"),
    ]


def test_render_examples_reports_each_broken_part_once() -> None:
    tv = make(
        text="{{ nope }}",
        html="<p>{{ also_nope }}</p>",
        examples=(DEPLOY_EXAMPLE, {**DEPLOY_EXAMPLE, "deployer": "Bob"}),
    )
    problems = render_examples(compile_template(tv))
    assert [(p.location, p.line, p.message) for p in problems] == [
        (("text",), 1, "undefined variable 'nope' (example 1)"),
        (("html",), 1, "undefined variable 'also_nope' (example 1)"),
    ]


def test_render_examples_reads_yaml_dates_as_strings() -> None:
    variables = {"type": "object", "properties": {"day": {"type": "string"}}}
    tv = make(
        subject="s", text="{{ day }}", variables=variables, examples=({"day": date(2024, 1, 15)},)
    )
    assert render_examples(compile_template(tv)) == []


def test_undeclared_variables() -> None:
    tv = make(
        text="{{ version }} {{ typo_var }} {% set local = 1 %}{{ local }} {{ title }} {{ range(2)|list }}",
        html="<b>{{ subject }}</b>{% for x in changes %}{{ x }}{{ loop.index }}{% endfor %}",
        slack=[{"type": "section", "text": {"type": "mrkdwn", "text": "{{ other_typo }}"}}],
    )
    assert undeclared_variables(tv) == {"typo_var", "other_typo"}
    compiled = compile_template(tv)
    assert undeclared_variables(compiled) == {"typo_var", "other_typo"}
    warnings = undeclared_problems(compiled)
    assert [(w.location, w.severity) for w in warnings] == [
        (("slack", 0, "text", "text"), "warning"),
        (("text",), "warning"),
    ]
    # `subject` is the rendered subject in variants only.
    assert undeclared_variables(make(text="{{ subject }}")) == {"subject"}


# -- catalog -----------------------------------------------------------------------------------


def snapshot_of(*versions: TemplateVersion) -> Snapshot:
    templates: dict[str, list[TemplateVersion]] = {}
    for tv in versions:
        templates.setdefault(tv.name, []).append(tv)
    return Snapshot(
        root=Path("."),
        identity=SnapshotId("0" * 64),
        settings=Settings(),
        channels=MappingProxyType({}),
        routes=(),
        rate_limits=(),
        suppressions=(),
        policies=MappingProxyType({}),
        templates=MappingProxyType({k: tuple(v) for k, v in templates.items()}),
    )


def test_catalog_resolves_newest_and_pinned_versions() -> None:
    versions = [
        make(version=v, subject=f"v{v} {{{{ environment }}}}") for v in ("1.9", "1.10", "1.2")
    ]
    catalog = TemplateCatalog(snapshot_of(*versions))
    assert catalog.resolve("deployment_complete").version == "1.10"
    assert catalog.resolve(TemplateRef("deployment_complete", "1.2")).version == "1.2"
    request = Request.from_dict({"template": "deployment_complete@1.9", "context": DEPLOY_EXAMPLE})
    assert catalog.render("deployment_complete@1.9", request, "email").subject == "v1.9 production"
    assert catalog.compiled("deployment_complete") is catalog.compiled("deployment_complete@1.10")
    with pytest.raises(TemplateNotFound, match=r"no version '3.0' \(versions: 1.2, 1.9, 1.10\)"):
        catalog.resolve("deployment_complete@3.0")
    with pytest.raises(TemplateNotFound, match="unknown template 'nope'"):
        catalog.resolve("nope")


def test_identical_pieces_are_compiled_once() -> None:
    text = "{% for c in changes %}{{ c }}{% endfor %} shared-piece-marker"
    first = compile_template(make(text=text))
    second = compile_template(make(name="other", text=text))
    (a,) = [p for p in first.pieces if p.location == ("text",)]
    (b,) = [p for p in second.pieces if p.location == ("text",)]
    assert a.template is b.template
    assert second.render(DEPLOY_EXAMPLE).text == "Fix login bug shared-piece-marker"


def test_checks_reuse_the_compilation_of_a_version() -> None:
    tv = make(subject="reuse-marker {{ environment }}")
    compiled = compile_template(tv)
    assert compiled_for(tv) is compiled
    # Found by content, not by id(): an equal version shares it, a changed one does not.
    assert compiled_for(make(subject="reuse-marker {{ environment }}")) is compiled
    changed = compiled_for(make(subject="reuse-marker {{ version }}"))
    assert changed is not compiled
    assert changed.render(DEPLOY_EXAMPLE).subject == "reuse-marker v2.1.0"


def test_variant_written_as_one_json_string() -> None:
    slack = '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ deployer|tojson }}}}]'
    compiled = compile_template(make(slack=slack))
    blocks = compiled.render(
        {**DEPLOY_EXAMPLE, "deployer": 'A "quoted" name'}, "slack"
    ).slack_blocks
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": 'A "quoted" name'}}]
    broken = compile_template(make(slack="[{{ deployer }}]"))
    with pytest.raises(TemplateRenderError) as info:
        broken.render(DEPLOY_EXAMPLE, "slack")
    assert info.value.location == ("slack",)
    assert "did not render to valid JSON" in info.value.message


def test_if_on_a_whole_variant_falls_back_to_subject_and_text() -> None:
    teams = {"if": "changes", "type": "AdaptiveCard", "version": "1.4", "body": []}
    compiled = compile_template(make(teams=teams))
    no_changes = {k: v for k, v in DEPLOY_EXAMPLE.items() if k != "changes"}
    card = compiled.render(no_changes, "teams").for_channel("teams")["card"]
    assert card["body"][0]["text"] == "Deployment Complete: production"


def test_invalid_variables_schema_is_a_context_error_not_a_crash() -> None:
    compiled = compile_template(make(variables={"type": "no-such-type"}))
    with pytest.raises(TemplateContextError, match="variables schema cannot be applied"):
        compiled.render({})
