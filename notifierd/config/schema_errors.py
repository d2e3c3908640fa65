"""Turn jsonschema errors into located, human problems: what is wrong and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from notifierd.config.problems import Problem
from notifierd.config.yamlpos import Document

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string '{shown}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_SINGULAR = {
    "routes": "route",
    "suppressions": "suppression",
    "rate_limits": "rate limit",
    "levels": "level",
    "examples": "example",
    "attachments": "attachment",
}


def _owner(path: tuple[Any, ...], what: str) -> str:
    """Name the object at ``path`` the way a config author thinks of it."""
    if not path:
        return what
    if isinstance(path[-1], int) and len(path) >= 2:
        return _SINGULAR.get(str(path[-2]), f"item {path[-1] + 1} of '{path[-2]}'")
    if len(path) >= 2 and path[-2] == "channels":
        return f"channel '{path[-1]}'"
    return f"'{path[-1]}'"


def _where(path: Iterable[Any]) -> str:
    parts = [p for p in path if not isinstance(p, int)]
    return f"'{parts[-1]}'" if parts else "the document"


def _flatten(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    """Descend into if/then and anyOf so the reported error is the specific one."""
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            # Report the branch that got furthest: the deepest error path.
            deepest = max(
                error.context, key=lambda e: (len(e.absolute_path), -len(e.context or ()))
            )
            if len(deepest.absolute_path) > len(error.absolute_path):
                yield from _flatten([deepest])
                continue
        yield error


def schema_problems(
    instance: Any, validator: Draft202012Validator, doc: Document, rel_path: str, what: str
) -> list[Problem]:
    """Validate ``instance``; every error located at the offending key or value."""
    problems = []
    for error in _flatten(validator.iter_errors(instance)):
        path = tuple(error.absolute_path)
        mark = doc.value_mark(path)
        message = _message(error, path, what)
        if "propertyNames" in error.absolute_schema_path:
            # The failing instance is a key name; point at that key, not at its parent.
            mark = doc.key_mark((*path, error.instance))
            message = (
                f"invalid name '{error.instance}': {error.schema.get('x-message') or error.message}"
            )
        if error.validator == "additionalProperties":
            extra = _extra_keys(error)
            allowed = sorted((error.schema.get("properties") or {}).keys())
            for key in extra:
                key_mark = doc.key_mark((*path, key))
                hint = did_you_mean(key, allowed) or (
                    f"; allowed keys: {', '.join(allowed)}" if allowed else ""
                )
                problems.append(
                    Problem(
                        rel_path,
                        key_mark.line,
                        key_mark.column,
                        f"unknown key '{key}'{hint}",
                        code="unknown-key",
                    )
                )
            continue
        problems.append(Problem(rel_path, mark.line, mark.column, message, code="schema"))
    return problems


def _extra_keys(error: ValidationError) -> list[str]:
    props = error.schema.get("properties") or {}
    patterns = error.schema.get("patternProperties") or {}
    if patterns:  # not used by our schemas; keep the library's message path simple
        return [str(k) for k in error.instance if k not in props]
    return [str(k) for k in error.instance if k not in props]


def _message(error: ValidationError, path: tuple[Any, ...], what: str) -> str:
    kind = error.validator
    value = error.instance
    field = _where(path) if path else what
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        owner = _owner(path, what)
        return f"{owner} is missing the required key '{missing}'"
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"{field} must be {wanted}, not {_describe(value)}"
    if kind in ("enum", "const"):
        options = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(str(o) for o in options)
        return f"{field} must be one of: {listed}; got {_describe(value)}{did_you_mean(value, map(str, options))}"
    if kind == "pattern":
        hint = custom or f"it must match {error.validator_value}"
        return f"{field}: invalid value {_describe(value)}: {hint}"
    if kind == "format":
        if error.validator_value == "date-time":
            return f"{field}: invalid date-time {_describe(value)}: use RFC 3339, e.g. 2026-12-01T00:00:00Z"
        return f"{field}: {_describe(value)} is not a valid {error.validator_value}"
    if kind == "minItems":
        return f"{field} needs at least {error.validator_value} item(s)"
    if kind == "maxItems":
        return f"{field} allows at most {error.validator_value} item(s)"
    if kind == "minLength":
        return f"{field} must not be empty"
    if kind == "maxLength":
        return f"{field} is longer than {error.validator_value} characters"
    if kind == "minProperties":
        return f"{field} needs at least {error.validator_value} entry"
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {
            "minimum": ">=",
            "maximum": "<=",
            "exclusiveMinimum": ">",
            "exclusiveMaximum": "<",
        }[kind]
        return f"{field} must be {bound} {error.validator_value}, got {value}"
    if kind == "propertyNames":
        return f"invalid name {_describe(value)}: {custom or error.message}"
    if kind == "anyOf" and what == "request":
        return "a request needs either title and message, or template (with context)"
    if custom:
        return f"{field}: {custom}"
    return f"{field}: {error.message}"
