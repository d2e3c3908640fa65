"""The fast path renders exactly as the sandboxed Jinja environment does, or declines.

Property-based: templates and contexts are generated (text, holes with steps and filters,
whitespace control, tags the fast path must leave to Jinja; strings with markup, unicode,
numbers, None, missing and declared-but-absent variables), and every case is run both ways.
The reference is the piece's own source rendered by the sandboxed environment. (Compiled pieces
run inside a ``{% block %}`` wrapper whose trim_blocks eats a leading newline, and a piece
ending in ``{`` does not compile there; the fast path keeps Jinja's own reading of the source.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from notifierd.templates import (
    TemplateRenderError,
    TemplateSecurityError,
    compile_template,
    fast_path,
)
from notifierd.templates.environment import ENV, optional, translate
from notifierd.templates.pieces import Piece
from tests.unit.test_templates import make

# html pieces render autoescaped; the environment's own switch avoids wrapping the source in
# {% autoescape %}, whose tag would trim a leading newline (trim_blocks) the piece may have.
HTML_ENV = ENV.overlay(autoescape=True)
NAMES = ("name", "user", "items", "count", "price", "note", "absent", "opt")
# Names Jinja reads as constants or special variables, and globals every template sees.
SPECIAL = ("true", "false", "none", "True", "None", "loop", "self", "range", "namespace")
STEPS = (".name", ".a", ".nothing", "[0]", "[1]", ".__class__", ".upper")
# Filters with literal arguments the fast path evaluates itself.
FILTERS = (
    "upper",
    "lower",
    "title",
    "trim",
    "length",
    "first",
    "last",
    "join",
    "join(', ')",
    "default('n/a')",
    "default('', true)",
    "d('-')",
    "truncate(3, True, '')",
    "truncate(5)",
    "replace('a', 'b')",
    "replace('<', '&')",
    "tojson",
    "e",
    "escape",
    "string",
    "int",
    "round(1)",
    "abs",
    "list",
    "wordcount",
    "center(9)",
    "indent(2)",
    "striptags",
    "safe",
    "slack_escape",
    "slack_mention",
    "number_format(1)",
    "pluralize('story', 'stories')",
    "duration_format",
    "date_format('%Y')",
)
# Filters whose result depends on autoescaping and on Markup in their input: drawn more often.
ESCAPING = ("join", "join(', ')", "replace('a', 'b')", "e", "safe", "string", "first", "indent(2)")
# Expressions the fast path must leave to Jinja.
DECLINED_EXPRESSIONS = (
    "name ~ note",
    "name if count else note",
    "name()",
    "user['name']",
    "1",
    "'lit'",
    "-count",
    "not name",
    "name|default(note)",
    "name|truncate(length=3)",
    "name|no_such_filter",
    "items|map(attribute='name')|list",
    "name|default('}}')",
    "name|replace('{', '}')",
    "name is defined",
    "items[count]",
)
DECLINED_TAGS = (
    "{% if name %}x{% endif %}",
    "{%- if name -%} x {%- endif %}",
    "{% for i in items %}{{ i }}{% endfor %}",
    "{# a comment #}",
    "{% raw %}{{ name }}{% endraw %}",
    "{% set name = 'x' %}",
)

markup_text = st.text(
    alphabet=st.sampled_from(list("ab Z_<>&\"'{}%#|-+.\n\t\u00e9\u2713\u65e5\U0001f600\u00a0")),
    max_size=12,
)
any_text = st.one_of(markup_text, st.text(max_size=8))
scalars = st.one_of(
    any_text,
    any_text.map(Markup),
    st.integers(-(10**7), 10**7),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.none(),
)
values = st.one_of(
    st.none(),
    scalars,
    st.lists(scalars, max_size=3),
    st.lists(st.one_of(markup_text, markup_text.map(Markup)), min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(("name", "a", "0")), scalars, max_size=2),
)
# Every name but ``absent`` (never there) and ``opt`` (declared but absent) has a value.
contexts = st.fixed_dictionaries({name: values for name in NAMES if name not in ("absent", "opt")})


# True about one time in ten (hypothesis favours the first element, and small integers).
rarely = st.sampled_from((False,) * 9 + (True,))


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """A variable with steps and filters (mostly), or an expression the fast path declines."""
    if draw(rarely):
        return draw(st.sampled_from(DECLINED_EXPRESSIONS))
    name = draw(st.sampled_from(SPECIAL if draw(rarely) else NAMES))
    steps = draw(st.lists(st.sampled_from(STEPS), max_size=2))
    filters = draw(st.lists(st.sampled_from(FILTERS) | st.sampled_from(ESCAPING), max_size=3))
    space = draw(st.sampled_from(("", " ")))
    return name + "".join(steps) + "".join(f"{space}|{space}{f}" for f in filters)


@st.composite
def holes(draw: st.DrawFn) -> str:
    # Whitespace control is rare enough that most holes stay on the fast path.
    left = draw(st.sampled_from(("",) * 8 + ("-", "+")))
    right = draw(st.sampled_from(("",) * 9 + ("-",)))
    pad = draw(st.lists(st.sampled_from(("", " ", "  ", "\n")), min_size=2, max_size=2))
    return "{{" + left + pad[0] + draw(expressions()) + pad[1] + right + "}}"


# Text and holes around one hole at least; now and then a tag the fast path must decline.
def _source(before: str, hole: str, after: list[str], end: str) -> str:
    return before + hole + "".join(after) + end


sources = st.builds(
    _source,
    markup_text,
    holes(),
    st.lists(st.one_of(markup_text, holes(), holes(), st.sampled_from(DECLINED_TAGS)), max_size=4),
    st.sampled_from(("", "\n", "\n\n", " \n", "\n ")),  # Jinja drops one trailing newline
)


def _parent(context: dict[str, Any]) -> dict[str, Any]:
    # As CompiledTemplate: globals, then the context; ``opt`` is declared but absent (added
    # here: hypothesis cannot print an Undefined in a falsifying example).
    return {**ENV.globals, "opt": optional("opt"), **context}


def _jinja_source(piece: Piece) -> str:
    return "{% if (" + piece.source + ") %}1{% endif %}" if piece.kind == "cond" else piece.source


def _jinja(piece: Piece, context: dict[str, Any]) -> tuple[Any, ...]:
    """What the sandboxed environment makes of the piece's source as a template of its own."""
    env = HTML_ENV if piece.kind == "html" else ENV
    try:
        return ("ok", env.from_string(_jinja_source(piece)).render(_parent(context)))
    except Exception as exc:
        error = translate(exc, piece.location, None)
        return ("error", type(error), error.message)


def _fast(segments: tuple[fast_path.Segment, ...], piece: Piece, context: dict[str, Any]) -> Any:
    parent = _parent(context)
    try:
        if piece.kind == "cond":
            hole = segments[0]
            assert isinstance(hole, fast_path.Hole)
            return ("ok", "1" if fast_path.truthy(hole, parent, piece.location) else "")
        autoescape = piece.kind == "html"
        return ("ok", fast_path.render(segments, parent, piece.location, autoescape))
    except TemplateRenderError as error:
        return ("error", type(error), error.message)


def _compiles(piece: Piece) -> bool:
    try:
        ENV.from_string(_jinja_source(piece))
    except Exception:
        return False
    return True


PROPERTY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(source=sources, kind=st.sampled_from(("text", "html")), context=contexts)
@example(  # found by CI: a method's repr, with the address of a string each side made
    source="{{name[0].upper}}",
    kind="text",
    context={"name": "ǣ", "user": None, "items": None, "count": None, "price": None, "note": None},
)
def test_fast_path_renders_like_jinja_or_declines(
    source: str, kind: str, context: dict[str, Any]
) -> None:
    segments = fast_path.parse(source)
    event("declined" if segments is None else "on the fast path")
    if segments is None:
        return  # declined: Jinja renders it
    piece = Piece(("text",), source, kind, "_nfd0")
    assert _compiles(piece), "the fast path took a piece Jinja refuses to compile"
    assert _unplaced(_fast(segments, piece, context)) == _unplaced(_jinja(piece, context))


# An object written out as its repr carries its address (``{{ name[0].upper }}``: a method of
# a string made afresh by each side): the same text but for where it lies in memory.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _unplaced(result: tuple[Any, ...]) -> tuple[Any, ...]:
    if result[0] == "ok":
        return ("ok", _ADDRESS.sub(" at 0x…", result[1]))
    return result


@PROPERTY
@given(expression=expressions(), context=contexts)
def test_fast_path_conditions_agree_with_jinja_or_decline(
    expression: str, context: dict[str, Any]
) -> None:
    hole = fast_path.parse_expression(expression)
    event("declined" if hole is None else "on the fast path")
    if hole is None:
        return
    piece = Piece(("slack", 0, "if"), expression, "cond", "_nfd0")
    assert _compiles(piece), "the fast path took a condition Jinja refuses to compile"
    assert _fast((hole,), piece, context) == _jinja(piece, context)


@PROPERTY
@given(
    value=values,
    filters=st.lists(st.sampled_from(ESCAPING) | st.sampled_from(FILTERS), min_size=1, max_size=3),
    kind=st.sampled_from(("html", "text")),
)
def test_fast_path_filter_chains_agree_with_jinja(
    value: Any, filters: list[str], kind: str
) -> None:
    # Filter chains on one value, where Markup in the value and autoescaping change the result.
    source = "{{ value|" + "|".join(filters) + " }}"
    segments = fast_path.parse(source)
    event("declined" if segments is None else "on the fast path")
    if segments is None:
        return  # e.g. default('', true): Jinja's `true` is no Python literal
    piece = Piece(("html",), source, kind, "_nfd0")
    assert _fast(segments, piece, {"value": value}) == _jinja(piece, {"value": value})


@pytest.mark.parametrize("expression", DECLINED_EXPRESSIONS)
def test_fast_path_leaves_other_expressions_to_jinja(expression: str) -> None:
    assert fast_path.parse("{{ " + expression + " }}") is None


@pytest.mark.parametrize(
    "source", [*DECLINED_TAGS, "{{- name }}", "{{ name -}}", "{{ name }} }}", "a {{ b"]
)
def test_fast_path_leaves_tags_and_whitespace_control_to_jinja(source: str) -> None:
    assert fast_path.parse(source) is None


def test_fast_path_takes_plain_holes_with_filters() -> None:
    # The generated cases above only mean something if the fast path takes most holes.
    segments = fast_path.parse("Hi {{ user.name|upper }} ({{ items[0]|default('-') }})\n")
    assert segments is not None
    assert [s.name for s in segments if isinstance(s, fast_path.Hole)] == ["user", "items"]


def test_fast_path_keeps_the_sandbox() -> None:
    tv = make(subject="s", text="{{ name.__class__ }}", variables={"type": "object"}, examples=())
    compiled = compile_template(tv)
    assert compiled.pieces[1].fast is not None
    with pytest.raises(TemplateSecurityError, match="unsafe attribute '__class__'"):
        compiled.render({"name": "x"})
