"""Request data never becomes markup: every built-in template, every channel type's payload.

Each example renders twice through the real payload builders: once with hostile strings
(mentions, links, Markdown, HTML, entities) in every request field, context variable and
attachment, once with the same shape but every string replaced by a neutral word. The markup in
the two payloads must be the same: whatever markup is there, the template wrote.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifierd.channels.base import Outbound, ResolvedSettings, decode_attachments
from notifierd.channels.email import _Envelope, build_mime
from notifierd.channels.slack import post_message_args
from notifierd.channels.teams import card_for, envelope
from notifierd.channels.webhook import payload
from notifierd.config.model import CHANNEL_TYPES, Channel
from notifierd.request import Request
from notifierd.templates import TemplateError, compile_template, render_plain
from notifierd.templates.markup import is_link_target
from notifierd.templates.message import RenderedMessage
from tests.unit.test_builtin_templates import ALL_FILES, load_version, strings

TEMPLATES = {f"{p.parent.name}@{p.stem}": compile_template(load_version(p)) for p in ALL_FILES}
HOSTILE_TOKENS = [
    "<!channel>",
    "<!here>",
    "@here",
    "<@U024BE7LH>",
    "<!subteam^S0614TZR7>",
    "<http://evil.example|click>",
    "*bold*",
    "_it_",
    "~x~",
    "`code`",
    "[x](http://evil.example)",
    "<at>Alice</at>",
    "<b>",
    "</p><script>x</script>",
    '" onclick="x',
    "&",
    "&lt;",
    "&amp;",
    "\n- item",
    "\n1. item",
    "\n# h",
    "\n> quote",
    "\\",
    "|",
    "é ☃ 🔥",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(max_size=4)), min_size=1, max_size=5
).map("".join)
hostile_url = st.builds(
    lambda tail: "https://example.com/" + tail,
    st.lists(
        st.sampled_from(["a", "|", "<", ">", "(", ")", "&b=1", "?q=*x*", "_"]), max_size=5
    ).map("".join),
)


def for_schema(spec: Any) -> st.SearchStrategy[Any]:
    """Values of a variable's schema, its strings hostile."""
    if not isinstance(spec, dict):
        return hostile_text
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return st.one_of([for_schema({**spec, "type": k}) for k in kind])
    if kind == "integer":
        return st.integers(min_value=max(int(spec.get("minimum", 0)), 0), max_value=10**6)
    if kind == "number":
        return st.integers(min_value=0, max_value=10**6)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(for_schema(spec.get("items")), max_size=3)
    if spec.get("format") == "uri":
        return hostile_url
    if spec.get("format") in ("date-time", "date"):
        return st.sampled_from([DATE, *HOSTILE_TOKENS])
    return hostile_text


DATE = "2024-01-15T10:30:00Z"


def neutral(value: Any) -> Any:
    """The same shape with every string a harmless word (empty stays empty: same branches)."""
    if isinstance(value, str):
        if value == DATE:
            return value
        if is_link_target(value):
            return "https://example.com/x"
        return "x" if value.strip() else value
    if isinstance(value, list):
        return [neutral(v) for v in value]
    if isinstance(value, dict):
        return {k: v if k in ENUMS else neutral(v) for k, v in value.items()}
    return value


ENUMS = {"severity", "status", "template"}  # the template's own choices, not free text


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    ref = draw(st.sampled_from([None, *TEMPLATES]))
    data: dict[str, Any] = {
        "id": "req-1",
        "title": draw(hostile_text),
        "message": draw(hostile_text),
        "attachments": [
            {"filename": draw(hostile_text), "url": draw(st.one_of(hostile_url, hostile_text))}
        ],
    }
    if ref is not None:
        schema = TEMPLATES[ref].variables
        data["template"] = ref
        data["context"] = {
            name: draw(for_schema(spec))
            for name, spec in schema.properties.items()
            if name in schema.required or draw(st.booleans())
        }
    return data


def render(data: dict[str, Any], channel_type: str) -> tuple[Request, RenderedMessage]:
    request = Request.from_dict(data)
    if request.template is None:
        return request, render_plain(request, channel_type)
    return request, TEMPLATES[str(request.template)].render_request(request, channel_type)


def build(data: dict[str, Any], channel_type: str) -> Any:
    """The payload the channel type would send for ``data``, by its own builder."""
    request, message = render(data, channel_type)
    return build_from(request, message, channel_type)


def build_from(request: Request, message: RenderedMessage, channel_type: str) -> Any:
    channel = Channel(name="c", type=channel_type, settings={})
    out = Outbound("d-1", request, channel, "#ops" if channel_type == "slack" else "a@b.c", message)
    if channel_type == "slack":
        return post_message_args(out, decode_attachments(request))
    if channel_type == "teams":
        return envelope(card_for(out))
    if channel_type == "email":
        env = _Envelope(out, ResolvedSettings("c", {"from": "n@example.com"}))
        html = build_mime(out, env).get_body(("html",))
        return html.get_content() if html is not None else ""
    if channel_type == "webhook":
        return payload(out, 0.0)
    return message.for_channel(channel_type)


def slack_mrkdwn(args: dict[str, Any]) -> list[str]:
    """The top-level text and every mrkdwn text object: what Slack parses for markup."""
    found = [args["text"]]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(args.get("blocks"))
    return found


def teams_markdown(card: Any) -> list[str]:
    """TextBlock texts and facts: what Teams parses as Markdown."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "TextBlock":
                found.append(value["text"])
            for fact in value.get("facts", []):
                found.extend((fact["title"], fact["value"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(card)
    return found


_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_ESCAPED = re.compile(r"\\.", re.DOTALL)
_LIST_OR_HEADING = re.compile(r"^\s*(?:[-+*#>]|\d+[.)])", re.MULTILINE)


def markup(channel_type: str, built: Any) -> dict[str, int]:
    """How much markup a payload carries, by kind."""
    if channel_type == "slack":
        text = "\n".join(slack_mrkdwn(built))
        return {"<": text.count("<"), ">": text.count(">")}
    if channel_type == "teams":
        # An escaped character is literal text: a letter in its place (removing it would join
        # "0\\<." into "0.", a list marker CommonMark never sees there).
        text = "\n".join(_ESCAPED.sub("x", t) for t in teams_markdown(built))
        counts = {c: text.count(c) for c in "[]()*_~`<>"}
        return {**counts, "line starts": len(_LIST_OR_HEADING.findall(text))}
    if channel_type == "email":
        return {"<": built.count("<"), ">": built.count(">")}
    return {}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_request_data_never_becomes_markup_in_any_channel(data: dict[str, Any]) -> None:
    calm = neutral(data)
    try:
        render(data, "slack")
    except TemplateError:
        # Data the template cannot render (a date that is none): a route's template falls back
        # to plain title + message, so check that.
        del data["template"], calm["template"]
    for channel_type in CHANNEL_TYPES:
        hostile = build(data, channel_type)
        assert markup(channel_type, hostile) == markup(channel_type, build(calm, channel_type)), (
            channel_type
        )
        if channel_type == "slack":
            # Every & in Slack's mrkdwn is one of the three entities Slack decodes.
            text = "".join(slack_mrkdwn(hostile))
            assert len(_ENTITY.findall(text)) == text.count("&")
        if channel_type in ("pagerduty", "webhook", "sms"):
            # Plain-text channels get the text as written: no entity or backslash added.
            sent = "\n".join(strings(hostile))
            given_text = "\n".join(strings(data))
            for escaped in ("&lt;!channel&gt;", "\\[x\\]"):
                assert escaped in given_text or escaped not in sent, channel_type


def test_the_payloads_compared_carry_the_hostile_data() -> None:
    # The property above compares markup; this shows the hostile strings do reach the payloads
    # (as text), so an equal count is not two empty payloads.
    data = {
        "id": "req-1",
        "title": "<!channel> [x](http://evil.example)",
        "message": "*hi* <b>",
        "template": "pr_notification@1.0",
        "context": {
            "pr_number": 1,
            "title": "<!channel> [x](http://evil.example)",
            "author": "<@U024BE7LH>",
            "repository": "r",
            "url": "https://example.com/a|b",
        },
    }
    slack = build(data, "slack")
    assert "&lt;!channel&gt;" in slack["text"] and "<!channel>" not in json.dumps(slack)
    assert "<https://example.com/a%7Cb|#1 &lt;!channel&gt;" in json.dumps(slack)
    teams = json.dumps(build(data, "teams"))
    assert "\\\\[x\\\\]\\\\(http://evil.example\\\\)" in teams
    assert "&lt;!channel&gt; [x](http://evil.example)" in build(data, "email")


def test_a_link_target_that_is_not_a_link_does_not_render() -> None:
    data = {
        "template": "pr_notification@1.0",
        "context": {"pr_number": 1, "title": "t", "author": "a", "repository": "r"},
    }
    for url in ("javascript:alert(1)", "<!channel>", "https://exa mple.com", "ftp://x/y"):
        request = Request.from_dict({**data, "context": {**data["context"], "url": url}})
        compiled = TEMPLATES["pr_notification@1.0"]
        try:
            compiled.render_request(request, "slack")
        except Exception as exc:
            assert "is not a 'uri'" in str(exc)
        else:
            raise AssertionError(f"{url!r} rendered as a link target")


def test_a_line_of_dashes_in_request_data_stays_text_in_teams() -> None:
    # Found by the property above: "--" under a line is a setext heading in Markdown.
    data = {"id": "req-1", "title": "<!channel>", "message": "--\n==\n+-#"}
    texts = teams_markdown(build(data, "teams"))
    assert "\\-\\-" in texts[1] and "\\=\\=" in texts[1] and "\\+\\-\\#" in texts[1]
    assert markup("teams", build(data, "teams"))["line starts"] == 0
