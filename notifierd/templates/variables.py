"""A template version's ``variables`` schema: checking a context and merging it with defaults."""

from __future__ import annotations

import json
from collections.abc import Mapping
from numbers import Number
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from notifierd.templates.environment import optional
from notifierd.templates.errors import TemplateContextError, TemplateProblem
from notifierd.templates.markup import is_link_target

# The request fields every template sees, below its ``context`` (Request.base_context()).
BASE_FIELDS = frozenset(
    {"id", "title", "message", "severity", "priority", "source", "protocol"}
    | {"kind", "action", "tags", "labels", "metadata"}
)
_MAX_MESSAGE = 300

# Only the formats a template relies on are enforced: ``uri`` is a link target, so it must be a
# link a reader can follow (http, https, mailto), not ``javascript:`` or a Slack ``<!channel>``.
FORMATS = FormatChecker(formats=())


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or is_link_target(value)


class TemplateVariables:
    """The declared variables of one template version, their defaults and their schema."""

    def __init__(self, schema: Any) -> None:
        self.schema: Mapping[str, Any] = schema if isinstance(schema, Mapping) else {}
        properties = self.schema.get("properties")
        self.properties: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        required = self.schema.get("required")
        self.required = frozenset(required) if isinstance(required, list) else frozenset()
        self.defaults = {
            name: spec["default"]
            for name, spec in self.properties.items()
            if isinstance(spec, Mapping) and "default" in spec
        }
        self._validator: Draft202012Validator | None = None  # built on first use: most never are

    def check(self, instance: Mapping[str, Any]) -> list[TemplateProblem]:
        """``instance`` against the schema; locations are paths in the context."""
        if _certainly_valid(self.schema, instance):
            return []
        if self._validator is None:
            self._validator = _validator_for(self.schema)
        problems = []
        missing: set[tuple[Any, ...]] = set()
        try:
            errors = sorted(self._validator.iter_errors(instance), key=lambda e: list(e.path))
        except Exception as exc:  # an invalid schema; validate reports it at `variables`
            message = f"the template's variables schema cannot be applied: {exc}"
            return [TemplateProblem(("variables",), None, message)]
        for error in errors:
            path = tuple(error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, Mapping):
                for name in error.validator_value:
                    if name not in error.instance and (*path, name) not in missing:
                        missing.add((*path, name))
                        dotted = ".".join(map(str, (*path, name)))
                        problems.append(
                            TemplateProblem(path, None, f"missing required variable {dotted!r}")
                        )
                continue
            where = ".".join(map(str, path)) or "context"
            message = error.message
            if len(message) > _MAX_MESSAGE:
                message = message[: _MAX_MESSAGE - 1] + "…"
            problems.append(TemplateProblem(path, None, f"variable {where!r}: {message}"))
        return problems

    def build_context(
        self, context: Mapping[str, Any] | None = None, base: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Defaults < request fields (``base``) < ``context``, checked against the schema."""
        context = context or {}
        present = {k: v for k, v in (base or {}).items() if v is not None and k not in context}
        # Request fields only count towards the schema where the template declares them, so
        # ``additionalProperties: false`` still applies to the producer's own context.
        declared = {k: v for k, v in present.items() if k in self.properties or k in self.required}
        problems = self.check({**self.defaults, **declared, **context})
        # A request field that does not fit the template's variable of the same name (request
        # ``labels`` is a mapping, pr_notification's a list) is not that variable: drop it.
        unfit = {p.location[0] for p in problems if p.location and p.location[0] in declared}
        if unfit:
            present = {k: v for k, v in present.items() if k not in unfit}
            declared = {k: v for k, v in declared.items() if k not in unfit}
            problems = self.check({**self.defaults, **declared, **context})
        if problems:
            raise TemplateContextError([p.message for p in problems], problems)
        merged = {**self.defaults, **present, **context}
        for name in (*self.properties, *BASE_FIELDS):
            if name not in merged:
                merged[name] = optional(name)  # declared but absent: renders empty, not an error
        return merged


# One validator per distinct schema: every version of a template usually declares the same
# variables, and templates share many (validate checks two examples of each of 300 versions
# with 100 distinct schemas in the benchmark repository). Bounded; cleared when full.
_VALIDATORS: dict[str, Draft202012Validator] = {}
_VALIDATORS_MAX = 1_000


def _validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    try:
        key: str | None = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):  # keys of mixed types, or not JSON: build one, keep none
        key = None
    found = _VALIDATORS.get(key) if key is not None else None
    if found is None:
        found = Draft202012Validator(dict(schema), format_checker=FORMATS)
        if key is not None:
            if len(_VALIDATORS) >= _VALIDATORS_MAX:
                _VALIDATORS.clear()
            _VALIDATORS[key] = found
    return found


# A fast first check of a context: valid, or "ask jsonschema", which words every problem (and
# is the only one to say a context is invalid). jsonschema walks the schema with a new
# validator object per value it descends into: a tenth of validate's template checks. Only the
# keywords below are understood, each as Draft 2020-12 with our format checker reads it; any
# other keyword, or a keyword's value of an unexpected type, is "not known". The types are
# jsonschema's default type checker's, or narrower (``number``: int and float only).
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly"}
    | {"writeOnly"}
)
_LIMITS = {
    "minimum": lambda value, limit: value >= limit,
    "maximum": lambda value, limit: value <= limit,
    "exclusiveMinimum": lambda value, limit: value > limit,
    "exclusiveMaximum": lambda value, limit: value < limit,
}
_LENGTHS = {"minLength": (str, 1), "maxLength": (str, -1), "minItems": (list, 1)}
_LENGTHS |= {"maxItems": (list, -1)}
_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (type(v) is int) or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _certainly_valid(schema: Any, instance: Any) -> bool:
    """True when ``instance`` is valid against ``schema``; False means "not known"."""
    if schema is True:
        return True
    if not isinstance(schema, Mapping):
        return False
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type":
            names = value if isinstance(value, list) else [value]
            if not all(isinstance(n, str) and n in _TYPES for n in names):
                return False  # jsonschema raises on an unknown type
            if not any(_TYPES[name](instance) for name in names):
                return False
        elif keyword == "properties":
            if not isinstance(value, Mapping):
                return False
            if isinstance(instance, dict):
                for name, subschema in value.items():
                    if name in instance and not _certainly_valid(subschema, instance[name]):
                        return False
        elif keyword == "required":
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                return False
            if isinstance(instance, dict) and not all(name in instance for name in value):
                return False
        elif keyword == "additionalProperties":
            properties = schema.get("properties", {})
            if "patternProperties" in schema or not isinstance(properties, Mapping):
                return False
            if isinstance(instance, dict):
                extra = [name for name in instance if name not in properties]
                if not all(_certainly_valid(value, instance[name]) for name in extra):
                    return False
        elif keyword == "items":
            if "prefixItems" in schema:
                return False
            if isinstance(instance, list) and not all(_certainly_valid(value, i) for i in instance):
                return False
        elif keyword == "enum":
            # Strings only: jsonschema's equality tells 1 from True, and 1 from 1.0 nowhere.
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return False
            if instance not in value or not isinstance(instance, str):
                return False
        elif keyword in _LIMITS:
            if not _is_number(value):
                return False
            if _is_number(instance):
                if not _LIMITS[keyword](instance, value):
                    return False
            elif isinstance(instance, Number) and not isinstance(instance, bool):
                return False  # a Decimal, a Fraction: jsonschema compares those too
        elif keyword in _LENGTHS:
            kind, sign = _LENGTHS[keyword]
            if type(value) is not int:
                return False
            if isinstance(instance, kind) and (len(instance) - value) * sign < 0:
                return False
        elif keyword == "format":
            if not isinstance(value, str):
                return False
            try:
                if not FORMATS.conforms(instance, value):
                    return False
            except Exception:  # jsonschema would report the checker's failure
                return False
        else:
            return False
    return True
