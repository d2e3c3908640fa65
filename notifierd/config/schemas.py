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
    ``request``)."""
    return Draft202012Validator(schema(name), format_checker=FormatChecker())
