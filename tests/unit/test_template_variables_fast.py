"""A context the fast check calls valid is one jsonschema finds no problem in.

``TemplateVariables.check`` takes "valid" from a small checker of its own and asks jsonschema
otherwise (which words every problem). Property-based: schemas are generated from the keywords
the fast check knows, with values of the wrong type and keywords it does not know mixed in, and
contexts from JSON and YAML values (bools beside ints, ``1.0`` beside ``1``, links good and
bad); whenever the fast check says valid, jsonschema must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from notifierd.templates.variables import FORMATS, TemplateVariables, _certainly_valid
from notifierd.templates.variables import _validator_for as validator_for

CONFIG = Path(__file__).resolve().parents[2] / "config"

NAMES = st.sampled_from(["a", "b", "service", "count", "url", "items"])
TYPES = st.sampled_from(
    ["string", "integer", "number", "boolean", "null", "array", "object", "strng", 3]
)
NUMBERS = st.one_of(
    st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), st.sampled_from([0.0, 1.0, 2.5, True])
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.sampled_from([0.0, 1.0, -2.5, 3.25, float("inf"), float("nan")]),
    st.sampled_from(["", "x", "abc", "https://example.com/a", "javascript:alert(1)", "1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)


def _schemas(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keyword = st.one_of(
        st.tuples(st.just("type"), st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3))),
        st.tuples(st.just("properties"), st.dictionaries(NAMES, inner, max_size=3)),
        st.tuples(st.just("required"), st.lists(NAMES, max_size=2)),
        st.tuples(st.just("additionalProperties"), inner),
        st.tuples(st.just("items"), inner),
        st.tuples(
            st.just("enum"),
            st.lists(st.one_of(st.sampled_from(["x", "abc", "1"]), SCALARS), max_size=3),
        ),
        st.tuples(
            st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]),
            NUMBERS,
        ),
        st.tuples(
            st.sampled_from(["minLength", "maxLength", "minItems", "maxItems"]),
            st.integers(0, 3),
        ),
        st.tuples(st.just("format"), st.sampled_from(["uri", "email", "date"])),
        st.tuples(st.sampled_from(["description", "default", "title"]), SCALARS),
        st.tuples(st.sampled_from(["const", "pattern", "prefixItems", "not"]), inner),
    )
    return st.one_of(st.booleans(), st.lists(keyword, max_size=4).map(dict))


SCHEMAS = st.recursive(st.booleans() | st.just({}), _schemas, max_leaves=10)


@settings(max_examples=3000, deadline=None)
@given(SCHEMAS, VALUES)
def test_valid_by_the_fast_check_is_valid_by_jsonschema(schema: Any, instance: Any) -> None:
    if not _certainly_valid(schema, instance):
        event("not known")
        return
    event("valid")
    if isinstance(schema, bool):
        assert schema is True
        return
    validator = validator_for(schema)
    assert list(validator.iter_errors(instance)) == []


def test_the_example_configs_contexts_are_valid_by_the_fast_check() -> None:
    """Not vacuous: the shipped templates' examples never need jsonschema."""
    checked = 0
    for path in sorted((CONFIG / "templates").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        variables = TemplateVariables(data.get("variables"))
        for example in data.get("examples") or ():
            context = {**variables.defaults, **yaml.safe_load(yaml.safe_dump(example))}
            context = {
                k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in context.items()
            }
            if not list(validator_for(variables.schema).iter_errors(context)):
                assert _certainly_valid(variables.schema, context), (path, example)
                checked += 1
    assert checked >= 10


def test_problems_are_still_jsonschemas_words() -> None:
    variables = TemplateVariables(
        {
            "type": "object",
            "required": ["service"],
            "properties": {"service": {"type": "string"}, "url": {"format": "uri"}},
        }
    )
    assert variables.check({"service": "api", "url": "https://example.com"}) == []
    messages = [p.message for p in variables.check({"service": 3, "url": "javascript:x"})]
    assert messages == [
        "variable 'service': 3 is not of type 'string'",
        "variable 'url': 'javascript:x' is not a 'uri'",
    ]
    assert FORMATS.conforms("javascript:x", "uri") is False
