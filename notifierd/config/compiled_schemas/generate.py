"""Writes the schema checks in ``generated/``: ``python -m notifierd.config.compiled_schemas.generate``.

Run it after changing a schema in ``schemas/``; ``tests/unit/test_compiled_schemas.py`` fails
until it has been run. Each module is fastjsonschema's code for one schema, with every raise
cut to a bare one: the code only says whether a document is valid (see ``__init__.py``).
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import fastjsonschema

from notifierd.config.compiled_schemas import digest
from notifierd.config.schemas import schema

NAMES = ("routes", "policy", "schedule", "template", "request")
# Schemas whose code writes their defaults into the document it checks, as fastjsonschema does
# by default: a request's (``kind``, an attachment's ``content_type``) are part of the request
# that intake/parse.py builds and records.
FILLS_DEFAULTS = frozenset({"request"})
_RAISE = re.compile(r"^(\s*)raise JsonSchemaValueException\(.*\)$")
_DEF = re.compile(r"^def (\w+)\(", re.MULTILINE)  # the first function checks the whole document


def formats_of(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["format"]} if isinstance(node.get("format"), str) else set()
        return found.union(*(formats_of(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(formats_of(v) for v in node))
    return set()


def refs_beside_keywords(node: Any) -> Any:
    """``node`` with every ``{"$ref": X, k: v...}`` written ``{"allOf": [{"$ref": X}], k: v...}``:
    JSON Schema 2020-12 applies the keywords beside a ``$ref`` (``"minItems": 1`` next to a
    shared ``matchers`` definition), drafts 4-7 ignore them; ``allOf`` means the same in both."""
    if isinstance(node, list):
        return [refs_beside_keywords(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {k: refs_beside_keywords(v) for k, v in node.items()}
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out["allOf"] = [{"$ref": ref}, *out.get("allOf", ())]
    return out


def source(name: str) -> str:
    """The module for schema ``name``."""
    generated_from = digest(name)
    # A copy (fastjsonschema writes into what it is given), with $ref siblings kept meaningful.
    definition = refs_beside_keywords(copy.deepcopy(schema(name)))
    # Every format is looked up in the custom formats the caller passes (jsonschema's own
    # checks); none of fastjsonschema's built-in ones is used.
    formats = {f: (lambda value: True) for f in sorted(formats_of(definition))}
    code = fastjsonschema.compile_to_code(
        definition, formats=formats, use_default=name in FILLS_DEFAULTS
    )
    lines = [
        _RAISE.sub(r'\1raise JsonSchemaValueException("")', line) for line in code.splitlines()
    ]
    # Not fastjsonschema's exceptions: importing it is not needed to run its code.
    lines = [
        "class JsonSchemaValueException(ValueError): pass\nclass JsonSchemaValuesException(ValueError): pass"
        if line.startswith("from fastjsonschema import")
        else line
        for line in lines
    ]
    root = _DEF.search(code)
    if root is None:
        raise SystemExit(f"no validation function in the code generated for {name}")
    header = [
        f'"""Whether a document is valid against schemas/{name}.schema.json (generated; do not',
        'edit: python -m notifierd.config.compiled_schemas.generate)."""',
        "# ruff: noqa",
        "# mypy: ignore-errors",
        f'SCHEMA_DIGEST = "{generated_from}"',
    ]
    return "\n".join([*header, *lines, f"validate = {root.group(1)}"]) + "\n"


def main() -> None:
    here = Path(__file__).resolve().parent / "generated"
    for name in NAMES:
        (here / f"{name}.py").write_text(source(name), encoding="utf-8")
        print(f"wrote {here / name}.py", file=sys.stderr)


if __name__ == "__main__":
    main()
