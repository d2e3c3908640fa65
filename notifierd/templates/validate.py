"""Template version checks for validate: variables schema, compile, render every example, undeclared names.

Each problem is located in the template's file, so validate reports it like any config problem.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from notifierd.config.checks import Checker, Parsed
from notifierd.config.model import TemplateVersion
from notifierd.config.problems import Problem, Severity
from notifierd.templates.checks import render_examples, undeclared_problems
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.compiler import compile_template
from notifierd.templates.errors import TemplateCompileError


def _locate(pf: Parsed, location: tuple[Any, ...], line: int | None) -> tuple[int, int]:
    """File line and column of ``line`` (1-based) inside the template piece at ``location``."""
    mark = pf.doc.value_mark(location)
    if not line:
        return mark.line, mark.column
    if mark.style in ("|", ">"):
        # Block scalars start on the line after their indicator; find the content's indentation.
        file_line = mark.line + line
        lines = pf.doc_text_lines
        if 0 < file_line <= len(lines):
            text = lines[file_line - 1]
            return file_line, len(text) - len(text.lstrip()) + 1
        return file_line, 1
    if line == 1:
        return mark.line, mark.column
    return mark.line + line - 1, 1


_valid_schemas: set[str] = set()


def _check_variables_schema(variables: Any) -> None:
    """Draft 2020-12 metaschema check of a template's variables.

    The metaschema checks each value under ``properties`` as a schema of its own and the rest
    of the schema without looking at them, so each part is checked (and remembered) on its own:
    templates share most of their variables (``{type: string}``), every version of a template
    shares them all, and one check costs one to two milliseconds. A problem keeps its path
    from the top of ``variables``.
    """
    properties = variables.get("properties") if isinstance(variables, dict) else None
    if not isinstance(properties, dict):
        _check_schema_once(variables)
        return
    for name, subschema in properties.items():
        try:
            _check_schema_once(subschema)
        except SchemaError as exc:
            exc.path.extendleft(reversed(("properties", name)))
            raise
    _check_schema_once({**variables, "properties": {}})


def _check_schema_once(schema: Any) -> None:
    key = json.dumps(schema, sort_keys=True, default=str)
    if key not in _valid_schemas:
        Draft202012Validator.check_schema(schema)
        _valid_schemas.add(key)


def check_template(
    tv: TemplateVersion, pf: Parsed, problems: list[Problem]
) -> CompiledTemplate | None:
    """Report every problem of one template version; the compiled template when it compiles."""
    check = Checker(pf, problems)

    def report(
        location: tuple[Any, ...], line: int | None, message: str, severity: str, code: str
    ) -> None:
        file_line, column = _locate(pf, tuple(location), line)
        # A template problem is an error or a warning; the names are the same in both layers.
        problems.append(Problem(pf.rel_path, file_line, column, message, Severity(severity), code))

    try:
        _check_variables_schema(tv.variables)
    except SchemaError as exc:
        where = ("variables", *exc.absolute_path)
        check.at(where, f"'variables' is not a valid JSON Schema: {exc.message}", "bad-variables")
        return None
    try:
        compiled = compile_template(tv)
    except TemplateCompileError as exc:
        for p in exc.problems:
            report(p.location, p.line, p.message, p.severity, "template-syntax")
        return None
    for p in render_examples(compiled):
        report(p.location, p.line, p.message, p.severity, "template-render")
    for p in undeclared_problems(compiled):  # located where each name is first used
        report(p.location, p.line, p.message, "warning", "undeclared-variable")
    if not tv.examples:
        check.at(
            (),
            "no examples: add at least one so validate can render this template",
            "no-examples",
            severity=Severity.WARNING,
        )
    return compiled
