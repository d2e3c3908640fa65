"""The JSON Schemas in ``schemas/``: located (wheel or checkout), loaded once, validators cached."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_NAMES = ("routes", "policy", "schedule", "template", "request")


def schemas_dir() -> Path:
    """``notifierd/schemas`` inside a wheel, else ``schemas/`` at the top of a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "routes.schema.json").is_file():
            return candidate
    raise FileNotFoundError("notifierd's JSON Schemas are missing from the installation")


@cache
def schema(name: str) -> dict[str, Any]:
    with open(schemas_dir() / f"{name}.schema.json", encoding="utf-8") as fh:
        return json.load(fh)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one schema (``routes``, ``policy``, ``schedule``, ``template``,
    ``request``), its local references written out in place (see :func:`inline_refs`)."""
    return Draft202012Validator(inline_refs(schema(name)), format_checker=FormatChecker())


# Keywords whose values are data, not schemas: a "$ref" in them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
# Siblings of a "$ref" that validate nothing, so the reference can stand in for the node.
_ANNOTATIONS = frozenset({"description", "title", "$comment", "default", "examples"})
_DEFS = "#/$defs/"


def inline_refs(root: dict[str, Any]) -> dict[str, Any]:
    """``root`` with each ``{"$ref": "#/$defs/NAME"}`` (plus annotations) replaced by that
    definition, written out; the same checks, with the same errors in the same order.

    jsonschema resolves a reference each time it meets it — a lookup through the registry and
    a new validator — which was a third of checking a routes.yaml of 1,000 routes. References
    that recurse, point elsewhere or sit beside other keywords stay as they are (``$defs`` is
    kept, so they still resolve). Only ``absolute_schema_path`` differs: it no longer passes
    through ``$ref``.
    """
    defs = root.get("$defs")
    if not isinstance(defs, dict):
        return root

    def inline(node: Any, within: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [inline(item, within) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS) and set(node) - {"$ref"} <= _ANNOTATIONS:
            name = ref[len(_DEFS) :]
            if name in defs and name not in within and "/" not in name and "~" not in name:
                return inline(defs[name], within | {name})
        return {
            key: value if key in _DATA_KEYWORDS else inline(value, within)
            for key, value in node.items()
        }

    inlined: dict[str, Any] = inline(root, frozenset())
    return inlined
