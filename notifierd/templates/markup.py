"""The markup each channel type reads, and escaping request data where it enters that markup.

Escaping happens when a value is written into a template's output (Jinja's ``finalize``, see
environment.py), never by post-processing the output: what the template wrote itself (a
``<!here>``, a ``*bold*``, a link) stays markup, what a request brought in is only ever text.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import markupsafe


class Markup(enum.Enum):
    """How the template leaf being rendered reads a value written into it."""

    PLAIN = "plain"  # subject, text, plain_text, ids and values: no markup to escape
    SLACK = "slack"  # Slack mrkdwn: ``&``, ``<``, ``>``
    TEAMS = "teams"  # the Markdown subset of an Adaptive Card TextBlock or FactSet
    LINK = "link"  # a URL field: the whole leaf must be a link target (checked after render)
    SLACK_JSON = "slack_json"  # a Slack variant written as one JSON string
    TEAMS_JSON = "teams_json"  # a Teams variant written as one JSON string


class SlackText(str):
    """Text already in Slack mrkdwn: escaped request data, or a mention of a known person."""

    __slots__ = ()


class TeamsText(str):
    """Text already in Adaptive Card Markdown: escaped request data."""

    __slots__ = ()


_markup: ContextVar[Markup] = ContextVar("notifierd_markup", default=Markup.PLAIN)
_mentionable: ContextVar[frozenset[str]] = ContextVar("notifierd_mentionable", default=frozenset())


@contextmanager
def markup_scope(markup: Markup) -> Iterator[None]:
    """Values written while this is active are escaped for ``markup``."""
    token = _markup.set(markup)
    try:
        yield
    finally:
        _markup.reset(token)


@contextmanager
def mention_scope(slack_ids: frozenset[str]) -> Iterator[None]:
    """``slack_mention`` mentions these Slack user ids (the people of the snapshot) and no others."""
    token = _mentionable.set(slack_ids)
    try:
        yield
    finally:
        _mentionable.reset(token)


def slack_escape(value: Any) -> SlackText:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    if isinstance(value, SlackText):
        return value
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return SlackText(text)


# Backslash escapes are CommonMark's; these are the characters the Adaptive Card Markdown
# subset (emphasis, links, code) and Teams (``<at>`` mentions) act on anywhere in a line.
_TEAMS_INLINE = re.compile(r"[\\`*_~\[\]()<>]")
# Headings, list markers, numbered lists and setext underlines (a line of '-' or '=' under text)
# act only at the start of a line: every character of a leading run is escaped.
_TEAMS_LINE_START = re.compile(r"^(\s*)([-+#=]+|\d+(?=[.)]))", re.MULTILINE)


def teams_escape(value: Any) -> TeamsText:
    """Request data as literal text in an Adaptive Card's Markdown."""
    if isinstance(value, TeamsText):
        return value
    text = _TEAMS_INLINE.sub(lambda m: "\\" + m.group(0), str(value))
    text = _TEAMS_LINE_START.sub(_escape_list_marker, text)
    return TeamsText(text)


def _escape_list_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker.isdigit():  # "1." / "1)": escape the punctuation after the number
        return indent + marker + "\\"
    return indent + "".join("\\" + c for c in marker)


def slack_mention(value: Any) -> SlackText:
    """A Slack user id (``U024BE7LH`` or ``@U024BE7LH``) of a person in ``people:`` becomes a
    mention that notifies; anything else (other ids, ``@here``, ``@channel``, names) stays
    text, escaped, because it came from a request. A list: each, space-separated."""
    if isinstance(value, (list, tuple)):
        return SlackText(" ".join(slack_mention(v) for v in value))
    ref = str(value).strip()
    bare = ref.removeprefix("@")
    if bare in _mentionable.get():
        return SlackText(f"<@{bare}>")
    return slack_escape(ref)


LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# Characters that would end a Slack link (``|``, ``>``) or a Markdown link (``)``) early.
_LINK_BREAKERS = {"|": "%7C", "<": "%3C", ">": "%3E", "(": "%28", ")": "%29", '"': "%22"}


def is_link_target(value: Any) -> bool:
    """True for an absolute http(s) URL with a host, or a mailto URI, without spaces."""
    if not isinstance(value, str) or not value or len(value) > 8192:
        return False
    if any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in LINK_SCHEMES:
        return False
    return bool(parts.path) if scheme == "mailto" else bool(parts.hostname)


def link_target(value: Any) -> str:
    """``value`` as the target of a link written by the template (``<{{ url|link_target }}|…>``,
    ``[…]({{ url|link_target }})``): an http(s) or mailto URI with the characters that would
    end the link percent-encoded. Anything else is refused: a link goes where the template
    meant it to, or the template does not render."""
    text = str(value).strip()
    if not is_link_target(text):
        raise ValueError(f"link_target: {shorten(text)!r} is not an http(s) or mailto link")
    return "".join(_LINK_BREAKERS.get(c, c) for c in text)


def shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_for(markup: Markup, value: Any) -> Any:
    """``value`` as written into a leaf of ``markup`` (Jinja's finalize, for every ``{{ }}``)."""
    if markup is Markup.SLACK:
        return slack_escape(value)
    if markup is Markup.TEAMS:
        return teams_escape(value)
    if markup is Markup.SLACK_JSON:
        return _escape_in_json(value, slack_escape)
    if markup is Markup.TEAMS_JSON:
        return _escape_in_json(value, teams_escape)
    return value


def _escape_in_json(value: Any, escape: Callable[[Any], str]) -> str:
    """``value`` written into a variant that is one JSON string: a ``tojson`` value has each of
    its strings escaped; anything else goes inside a JSON string and must not end it."""
    if isinstance(value, markupsafe.Markup):
        try:
            decoded = json.loads(str(value))
        except ValueError:
            pass
        else:
            return json.dumps(_escape_strings(decoded, escape), ensure_ascii=False)
    return json.dumps(escape(value), ensure_ascii=False)[1:-1]


def _escape_strings(value: Any, escape: Callable[[Any], str]) -> Any:
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [_escape_strings(item, escape) for item in value]
    if isinstance(value, dict):
        return {key: _escape_strings(item, escape) for key, item in value.items()}
    return value


def current_markup() -> Markup:
    return _markup.get()


_LINK_KEYS = frozenset(
    {"url", "image_url", "iconUrl", "backgroundImage", "selectAction_url", "thumb_url"}
)
_TEAMS_FACT_KEYS = frozenset({"title", "value"})


def leaf_markup(variant: str, key: str | int | None, node_type: Any) -> Markup:
    """The markup of the value at ``key`` of a mapping whose ``type`` is ``node_type`` (None
    when the template computes it) in the ``variant`` ("slack" or "teams")."""
    if key in _LINK_KEYS:
        return Markup.LINK
    if variant == "slack":
        # A text object's text is mrkdwn unless it is declared plain_text; when the template
        # computes the type, escape: the safe side.
        plain = isinstance(node_type, str) and node_type == "plain_text"
        return Markup.SLACK if key == "text" and not plain else Markup.PLAIN
    if variant == "teams":
        # A Fact (no type) reads Markdown in title and value; an action's title is plain.
        if key == "text" or (key in _TEAMS_FACT_KEYS and not isinstance(node_type, str)):
            return Markup.TEAMS
        return Markup.PLAIN
    return Markup.PLAIN


def variant_markup(variant: str) -> Markup:
    """The markup of a variant written as one JSON string (no structure to look at)."""
    return {"slack": Markup.SLACK_JSON, "teams": Markup.TEAMS_JSON}.get(variant, Markup.PLAIN)
