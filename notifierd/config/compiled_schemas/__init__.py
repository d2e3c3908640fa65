"""A fast first check of a config file or a request against its JSON Schema: valid, or "ask
jsonschema".

jsonschema walks a schema node by node for every value (a routes.yaml of 1,000 routes: 22,000
descents); fastjsonschema's generated code checks the same document in a fraction of that. The
modules here are that code, generated ahead of time (``generate.py``; compiling it at run time
would cost more than it saves) and trimmed to answer valid or not. When a document is not
valid, or the code is not sure, jsonschema checks it and words every problem as before: a
valid document is the only answer taken from here.

Taking "valid" from this code is sound for our schemas only because they use no keyword whose
meaning differs between fastjsonschema (drafts 4–7) and JSON Schema 2020-12, which jsonschema
applies: ``tests/unit/test_compiled_schemas.py`` keeps the keywords to that list, the enums to
strings (where ``1 == True`` would blur them) and compares both on valid and broken files. A
format is checked by jsonschema's own checker, so both agree on it too. A module whose schema
has changed since it was generated is not used.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from notifierd.config.schemas import SCHEMA_NAMES, schema

Check = Callable[[Any], bool]


def certainly_valid(name: str, instance: Any) -> bool:
    """True when ``instance`` is valid against schema ``name``; False means "not known"."""
    check = _check(name)
    return check is not None and check(instance)


def digest(name: str) -> str:
    """What a module was generated from: the schema as loaded, canonically encoded."""
    encoded = json.dumps(schema(name), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


class _Formats(dict[str, Callable[[Any], bool]]):
    """Every format as jsonschema's checker judges it (a format it does not know: any value)."""

    def __init__(self) -> None:
        super().__init__()
        from jsonschema import FormatChecker

        self._checker = FormatChecker()

    def __missing__(self, name: str) -> Callable[[Any], bool]:
        self[name] = lambda value: self._checker.conforms(value, name)
        return self[name]


@cache
def _check(name: str) -> Check | None:
    if name not in SCHEMA_NAMES:
        return None
    try:
        module = importlib.import_module(f"{__name__}.generated.{name}")
    except ImportError:  # a schema without generated code (tests)
        return None
    if digest(name) != module.SCHEMA_DIGEST:
        return None  # the schema changed since: generate.py was not run
    formats = _Formats()
    validate = module.validate

    def check(instance: Any) -> bool:
        try:
            validate(instance, formats)
        except Exception:  # invalid, or code that cannot tell: ask jsonschema
            return False
        return True

    return check
