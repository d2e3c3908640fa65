"""The schemas with their references written out report exactly what the schemas as written do."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from notifierd.config.schemas import inline_refs, schema, validator

CONFIG = Path(__file__).resolve().parents[2] / "config"
# Values that break some rule wherever they land: wrong types, bad names, bad durations.
ODD_VALUES: list[Any] = [None, 7, -1, "", "x y", "5 minutes", "${}", [], {}, {"bogus": 1}, [3]]


def _errors(errors: Any) -> list[tuple[Any, ...]]:
    """What a report is made of, nested alternatives included."""
    return [
        (
            list(e.absolute_path),
            e.message,
            e.validator,
            e.validator_value,
            e.schema.get("x-message") if isinstance(e.schema, dict) else None,
            _errors(e.context or ()),
        )
        for e in errors
    ]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index path in ``node``."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    out = []
    for key, value in items:
        out.append((*path, key))
        if isinstance(value, dict | list):
            out += _paths(value, (*path, key))
    return out


def _mutants(data: Any, rng: random.Random, count: int) -> list[Any]:
    """Copies of ``data`` with one value replaced, one key added or one key removed."""
    paths = _paths(data)
    out = []
    for _ in range(count):
        mutant = copy.deepcopy(data)
        *parents, key = rng.choice(paths)
        node = mutant
        for step in parents:
            node = node[step]
        action = rng.random()
        if action < 0.6:
            node[key] = rng.choice(ODD_VALUES)
        elif action < 0.8 and isinstance(node, dict):
            del node[key]
        elif isinstance(node, dict):
            node[f"unknown_{key}"] = 1
        else:
            node.append(rng.choice(ODD_VALUES))
        out.append(mutant)
    return out


@pytest.mark.parametrize(
    ("name", "sample"),
    [
        ("routes", "routes.yaml"),
        ("policy", "policies/critical-incident.yaml"),
        ("schedule", "schedules/on-call-primary.yaml"),
    ],
)
def test_inlined_schema_reports_the_same_errors(name: str, sample: str) -> None:
    data = yaml.safe_load((CONFIG / sample).read_text())
    as_written = Draft202012Validator(schema(name), format_checker=FormatChecker())
    inlined = validator(name)
    for mutant in _mutants(data, random.Random(22), 150):
        assert _errors(inlined.iter_errors(mutant)) == _errors(as_written.iter_errors(mutant))


def test_references_are_written_out_except_where_they_recurse() -> None:
    root = {
        "$defs": {
            "name": {"type": "string", "pattern": "^[a-z]+$"},
            "tree": {"type": "object", "properties": {"child": {"$ref": "#/$defs/tree"}}},
        },
        "properties": {
            "a": {"$ref": "#/$defs/name", "description": "annotations go"},
            "b": {"$ref": "#/$defs/name", "minLength": 3},  # a sibling that checks: kept
            "c": {"$ref": "#/$defs/tree"},
            "d": {"const": {"$ref": "#/$defs/name"}},  # data, not a reference
        },
    }
    inlined = inline_refs(root)["properties"]
    assert inlined["a"] == {"type": "string", "pattern": "^[a-z]+$"}
    assert inlined["b"] == {"$ref": "#/$defs/name", "minLength": 3}
    assert inlined["c"]["properties"]["child"] == {"$ref": "#/$defs/tree"}
    assert inlined["d"] == {"const": {"$ref": "#/$defs/name"}}
    with pytest.raises(ValidationError):
        Draft202012Validator(inline_refs(root)).validate({"c": {"child": {"child": 5}}})
