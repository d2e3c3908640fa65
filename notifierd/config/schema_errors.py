"""Turn jsonschema errors into located, human problems: what is wrong and how to fix it.

The wording shared with request validation (intake/parse.py) lives here too: one translation of
jsonschema's errors, worded for YAML authors or for JSON producers.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
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


def _shorten(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


_SINGULAR = {
    "routes": "route",
    "suppressions": "suppression",
    "rate_limits": "rate limit",
    "levels": "level",
    "layers": "layer",
    "overrides": "override",
    "restrict": "restriction",
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


@dataclass(frozen=True, slots=True)
class Wording:
    """How a document's readers name values: config authors think in YAML, producers in JSON."""

    type_names: Mapping[str, str]  # JSON Schema type -> words ("a mapping", "an object")
    nothing: str  # how a null value reads
    quote: Callable[[str], str]  # a text value as shown inside a message
    # Suggest a close choice for a value that is not text too (by its str(), e.g. YAML's [first]).
    hint_any_value: bool

    def describe(self, value: Any) -> str:
        """``string 'x'``, ``number 3``, ``a list``: a value as the message names it."""
        if value is None:
            return self.nothing
        if isinstance(value, bool):
            return f"boolean {str(value).lower()}"
        if isinstance(value, (int, float)):
            return f"number {value}"
        if isinstance(value, str):
            return f"string '{self.quote(value)}'"
        if isinstance(value, list):
            return self.type_names["array"]
        if isinstance(value, dict):
            return self.type_names["object"]
        return type(value).__name__


YAML_WORDING = Wording(_TYPE_NAMES, "nothing", _shorten, hint_any_value=True)
_describe = YAML_WORDING.describe


def flatten(
    errors: Iterable[ValidationError], *, keep_root_alternatives: bool = False
) -> Iterator[ValidationError]:
    """Descend into if/then and anyOf so the reported error is the specific one.

    ``keep_root_alternatives``: an anyOf on the whole document is itself the rule to report
    (a request needs a title, a message or a template), not one of its branches.
    """
    for error in errors:
        if (
            error.validator in ("anyOf", "oneOf")
            and error.context
            and (error.absolute_path or not keep_root_alternatives)
        ):
            # Report the branch that got furthest: the deepest error path.
            deepest = max(
                error.context, key=lambda e: (len(e.absolute_path), -len(e.context or ()))
            )
            if len(deepest.absolute_path) > len(error.absolute_path):
                yield from flatten([deepest], keep_root_alternatives=keep_root_alternatives)
                continue
        yield error


def unknown_keys(error: ValidationError) -> tuple[list[str], list[str]]:
    """An ``additionalProperties`` error's ``(unknown keys, allowed keys)``."""
    allowed = sorted((error.schema.get("properties") or {}).keys())
    return [str(k) for k in error.instance if k not in allowed], allowed


def common_message(error: ValidationError, field: str, wording: Wording) -> str | None:
    """The message for the checks every document words alike (type, choices, pattern,
    lengths); None for the others."""
    kind = error.validator
    value = error.instance
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(wording.type_names.get(n, n) for n in names)
        return f"{field} must be {wanted}, not {wording.describe(value)}"
    if kind in ("enum", "const"):
        options = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(str(o) for o in options)
        hinted = wording.hint_any_value or isinstance(value, str)
        hint = did_you_mean(value, map(str, options)) if hinted else ""
        return f"{field} must be one of: {listed}; got {wording.describe(value)}{hint}"
    if kind == "pattern":
        custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
        hint = custom or f"it must match {error.validator_value}"
        return f"{field}: invalid value {wording.describe(value)}: {hint}"
    if kind == "minItems":
        return f"{field} needs at least {error.validator_value} item(s)"
    if kind == "minLength":
        return f"{field} must not be empty"
    if kind == "maxLength":
        return f"{field} is longer than {error.validator_value} characters"
    return None


def schema_problems(
    instance: Any, validator: Draft202012Validator, doc: Document, rel_path: str, what: str
) -> list[Problem]:
    """Validate ``instance``; every error located at the offending key or value."""
    problems = []
    for error in flatten(validator.iter_errors(instance)):
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
            extra, allowed = unknown_keys(error)
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


def _message(error: ValidationError, path: tuple[Any, ...], what: str) -> str:
    kind = error.validator
    value = error.instance
    field = _where(path) if path else what
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        owner = _owner(path, what)
        return f"{owner} is missing the required key '{missing}'"
    shared = common_message(error, field, YAML_WORDING)
    if shared is not None:
        return shared
    if kind == "format":
        if error.validator_value == "date-time":
            return f"{field}: invalid date-time {_describe(value)}: use RFC 3339, e.g. 2026-12-01T00:00:00Z"
        return f"{field}: {_describe(value)} is not a valid {error.validator_value}"
    if kind == "maxItems":
        return f"{field} allows at most {error.validator_value} item(s)"
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
        return "a request needs at least one of title, message or template (with context)"
    if custom:
        return f"{field}: {custom}"
    return f"{field}: {error.message}"
