"""Escaping per markup, link targets, and which leaf of a variant reads which markup."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from notifierd.config.model import Contact, Person
from notifierd.request import Request
from notifierd.templates import TemplateCatalog, TemplateRenderError, compile_template
from notifierd.templates.markup import is_link_target, link_target, slack_escape, teams_escape
from tests.unit.builders import make_snapshot
from tests.unit.test_templates import make


def test_slack_escape_writes_the_three_entities_once() -> None:
    escaped = slack_escape("<!channel> & <@U1>")
    assert escaped == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert slack_escape(escaped) == escaped  # already mrkdwn: not escaped twice


def test_teams_escape_leaves_no_markdown_active() -> None:
    assert teams_escape("**b** _i_ [x](http://e) `c` <at>A</at>") == (
        "\\*\\*b\\*\\* \\_i\\_ \\[x\\]\\(http://e\\) \\`c\\` \\<at\\>A\\</at\\>"
    )
    assert teams_escape("- a\n  + b\n# h\n12. n\nv1.2 - ok") == (
        "\\- a\n  \\+ b\n\\# h\n12\\. n\nv1.2 - ok"
    )


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a?b=1&c=2", "http://x.y", "mailto:ops@example.com"],
)
def test_link_targets_are_http_https_and_mailto(url: str) -> None:
    assert is_link_target(url)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "<!channel>", "https://", "https://a b", "ftp://x/y", "/relative", ""],
)
def test_anything_else_is_not_a_link_target(url: str) -> None:
    assert not is_link_target(url)
    with pytest.raises(ValueError, match="is not an http"):
        link_target(url)


def test_link_target_encodes_what_would_end_a_link() -> None:
    assert link_target("https://e.com/a|b<c>(d)") == "https://e.com/a%7Cb%3Cc%3E%28d%29"


def render_slack(slack: Any, **context: Any) -> Any:
    tv = make(subject="s", text="t", variables={"type": "object"}, examples=(), slack=slack)
    return compile_template(tv).render(context, "slack").slack_blocks


def test_mrkdwn_is_escaped_plain_text_is_not_and_template_markup_stays() -> None:
    blocks = render_slack(
        [
            {"type": "header", "text": {"type": "plain_text", "text": "{{ who }}"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "<!here> *{{ who }}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "{{ '<!channel>' }}"}},
        ],
        who="<!channel> & co",
    )
    assert blocks[0]["text"]["text"] == "<!channel> & co"  # plain_text: shown as written
    assert blocks[1]["text"]["text"] == "<!here> *&lt;!channel&gt; &amp; co*"
    assert blocks[2]["text"]["text"] == "<!channel>"  # a literal the template wrote


def test_a_url_field_must_render_to_a_link() -> None:
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "url": "{{ u }}"}
    slack = [{"type": "actions", "elements": [button]}]
    assert render_slack(slack, u="https://e.com/x")[0]["elements"][0]["url"] == "https://e.com/x"
    with pytest.raises(TemplateRenderError, match="is not an http"):
        render_slack(slack, u="javascript:alert(1)")


def test_a_variant_written_as_json_escapes_each_value_inside_it() -> None:
    slack = '[{"type": "section", "text": {"type": "mrkdwn", "text": {{ who|tojson }}}}]'
    blocks = render_slack(slack, who='<!channel> "quoted"')
    assert blocks[0]["text"]["text"] == '&lt;!channel&gt; "quoted"'
    inline = '[{"type": "section", "text": {"type": "mrkdwn", "text": "by {{ who }}"}}]'
    assert render_slack(inline, who='"}]<!here>')[0]["text"]["text"] == 'by "}]&lt;!here&gt;'


def test_teams_facts_and_text_blocks_are_escaped_action_titles_are_not() -> None:
    teams = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": "**{{ who }}**"},
            {"type": "FactSet", "facts": [{"title": "By", "value": "{{ who }}"}]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "{{ who }}", "url": "https://e.com"}],
    }
    tv = make(subject="s", text="t", variables={"type": "object"}, examples=(), teams=teams)
    card = compile_template(tv).render({"who": "[x](http://evil)"}, "teams").teams_card
    assert card is not None
    assert card["body"][0]["text"] == "**\\[x\\]\\(http://evil\\)**"
    assert card["body"][1]["facts"][0]["value"] == "\\[x\\]\\(http://evil\\)"
    assert card["actions"][0]["title"] == "[x](http://evil)"


def test_the_catalog_mentions_the_people_of_its_snapshot_and_nobody_else() -> None:
    tv = make(
        subject="s",
        text="t",
        variables={"type": "object"},
        examples=(),
        slack=[{"type": "section", "text": {"type": "mrkdwn", "text": "{{ who|slack_mention }}"}}],
    )
    alice = Person("alice", (Contact("slack", "@U0ALICE01"),))
    snapshot = dataclasses.replace(
        make_snapshot(), templates={tv.name: (tv,)}, people={"alice": alice}
    )
    who = ["U0ALICE01", "U0MALLORY1", "@here"]
    request = Request.from_dict({"template": tv.ref, "context": {"who": who}})
    blocks = TemplateCatalog(snapshot).render(tv.ref, request, "slack").slack_blocks
    assert blocks is not None
    assert blocks[0]["text"]["text"] == "<@U0ALICE01> U0MALLORY1 @here"
