"""Compiling by shape: a source whose shape was compiled before gets the code Jinja compiles."""

from __future__ import annotations

from types import CodeType
from typing import Any

import pytest

from notifierd.templates import TemplateRenderError, compile_template
from notifierd.templates.environment import ENV
from notifierd.templates.shapes import _MARK, _SHAPES, compile_by_shape
from tests.unit.test_templates import DEPLOY_EXAMPLE, make

# (first source, second source): the same tags on the same lines, different literal text.
PAIRS = [
    ("a {{ x }} b", "other {{ x }} text"),
    (
        "{% for i in items %}- {{ i }}\n{% endfor %}done",
        "{% for i in items %}* {{ i }}\n{% endfor %}ok",
    ),
    (
        "{% autoescape true %}<b>{{ x }}</b>{% endautoescape %}",
        "{% autoescape true %}<i>&amp; {{ x }}</i>{% endautoescape %}",
    ),
    (
        "  {% if x %}\n  yes\n  {% else %}\n  no\n  {% endif %}\n",
        "\t{% if x %}\nja\n{% else %}\nnein\n{% endif %}\n",
    ),
    ("{{ 'lit' }} data {{ 1 + 2 }} more", "{{ 'lit' }} other {{ 1 + 2 }} text"),
    (
        "{% set s %}inner {{ x }}{% endset %}[{{ s }}]",
        "{% set s %}INNER {{ x }}{% endset %}<{{ s }}>",
    ),
    (
        "{% macro m(a) %}<{{ a }}>{% endmacro %}x{{ m(1) }}y",
        "{% macro m(a) %}({{ a }}){% endmacro %}p{{ m(1) }}q",
    ),
    (
        "{% filter upper %}shout {{ x }}{% endfilter %}",
        "{% filter upper %}yell {{ x }}{% endfilter %}",
    ),
    ("{% raw %}{{ not a tag }}{% endraw %} {{ x }}", "{% raw %}{% neither %}{% endraw %} {{ x }}"),
    ("{# note #}quote ' and \\ and \" {{ x }}", "{# note #}\u00e9\u2603 '''\\n {{ x }}"),
    ("line\r\nbreaks {{ x }}", "other\r\nbreaks {{ x }}"),
    ("a  {%- if x -%}  b  {%- endif -%}  c", "d  {%- if x -%}  e  {%- endif -%}  f"),
]


def _summary(code: CodeType) -> dict[str, Any]:
    """Everything of a code object but the columns in its position table (the constants' text
    is longer or shorter, which moves columns; lines, which tracebacks and Jinja use, stay)."""
    fields = {f: getattr(code, f) for f in dir(code) if f.startswith("co_")}
    fields.pop("co_linetable")
    fields.pop("co_lines")
    fields.pop("co_positions")
    fields["lines"] = list(code.co_lines())
    fields["co_consts"] = [_summary(c) if isinstance(c, CodeType) else c for c in code.co_consts]
    return fields


def _compile(source: str, name: str) -> tuple[CodeType, Any]:
    found = compile_by_shape(source, name, f"<template {name}>", lambda ast: "facts")
    assert found is not None
    return found


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_a_shape_compiled_before_gives_the_code_jinja_compiles(first: str, second: str) -> None:
    _compile(first, "t@1.0")
    shapes = len(_SHAPES._shapes)
    code, facts = _compile(second, "t@2.0")
    assert len(_SHAPES._shapes) == shapes, "the second source should reuse the first's shape"
    assert facts == "facts"
    expected = ENV.compile(second, name="t@2.0", filename="<template t@2.0>")
    assert _summary(code) == _summary(expected)
    context = {"x": "X&", "items": ["i1", "i2"]}
    rendered = ENV.template_class.from_code(ENV, code, ENV.make_globals(None)).render(context)
    assert rendered == ENV.from_string(second).render(context)
    assert _MARK not in rendered


def test_a_different_shape_is_compiled_anew() -> None:
    _compile("shape one {{ a }}", "s@1.0")
    shapes = len(_SHAPES._shapes)
    code, _ = _compile("shape one {{ b }}", "s@2.0")  # another name is another shape
    assert len(_SHAPES._shapes) == shapes + 1
    expected = ENV.compile("shape one {{ b }}", name="s@2.0", filename="<template s@2.0>")
    assert _summary(code) == _summary(expected)
    _compile("shape one\n{{ a }}", "s@3.0")  # the tag on another line too
    assert len(_SHAPES._shapes) == shapes + 2


def test_what_jinja_refuses_is_left_to_the_caller() -> None:
    assert compile_by_shape("{{ x | no_such_filter }}", "r", "<r>", lambda ast: 1) is None
    assert compile_by_shape("{% if x %}open", "r", "<r>", lambda ast: 1) is None
    assert compile_by_shape("fine {{ x }}", "r", "<r>", lambda ast: None) is None
    assert compile_by_shape(f"{_MARK}0\ue001 {{{{ x }}}}", "r", "<r>", lambda ast: 1) is None


def test_versions_sharing_a_shape_render_their_own_text_and_lines() -> None:
    text = (
        "v{n} first\nv{n} second\n{{% for c in changes %}}{{{{ c }}}} {{{{ oops }}}}{{% endfor %}}"
    )
    one = compile_template(make(version="1.0", text=text.format(n=1)))
    two = compile_template(make(version="2.0", text=text.format(n=2)))
    example = {**DEPLOY_EXAMPLE, "changes": []}
    assert one.render(example).text == "v1 first\nv1 second"
    assert two.render(example).text == "v2 first\nv2 second"
    with pytest.raises(TemplateRenderError) as info:
        two.render(DEPLOY_EXAMPLE)
    assert info.value.message == "undefined variable 'oops'"
    assert (info.value.location, info.value.line) == (("text",), 3)
