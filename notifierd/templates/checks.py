"""What ``notifierd validate`` asks of a compiled template: its examples render everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from notifierd.config.model import TemplateVersion
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.compiler import compiled_for
from notifierd.templates.errors import (
    TemplateContextError,
    TemplateProblem,
    TemplateRenderError,
)
from notifierd.templates.message import RenderedMessage
from notifierd.templates.slack import validate_blocks, validate_card


def _jsonable(value: Any) -> Any:
    """YAML reads ``2024-01-15`` as a date; a producer's JSON would carry a string."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _check_message(message: RenderedMessage) -> list[TemplateProblem]:
    """What the receiving APIs would refuse in one rendered message."""
    problems = []
    if message.channel_type in (None, "webhook") and not message.subject:
        problems.append(TemplateProblem(("subject",), None, "the subject renders empty", "warning"))
    if "slack" in message.variants:
        for index, text in validate_blocks(message.slack_blocks):
            where = ("slack",) if index is None else ("slack", index)
            problems.append(TemplateProblem(where, None, f"slack: {text}"))
    if "teams" in message.variants:
        for text in validate_card(message.teams_card):
            problems.append(TemplateProblem(("teams",), None, f"teams: {text}"))
    return problems


def render_examples(compiled: CompiledTemplate) -> list[TemplateProblem]:
    """Render every example for the text and each variant; check variants against the APIs."""
    tv = compiled.version
    problems: list[TemplateProblem] = []
    seen: set[tuple[Any, ...]] = set()

    def add(problem: TemplateProblem, number: int) -> None:
        key = (problem.location, problem.line, problem.message)
        if key not in seen:  # the same mistake shows in every example: say it once
            seen.add(key)
            message = f"{problem.message} (example {number})"
            problems.append(
                TemplateProblem(problem.location, problem.line, message, problem.severity)
            )

    for i, example in enumerate(tv.examples):
        number = i + 1
        if not isinstance(example, Mapping):
            add(TemplateProblem(("examples", i), None, "an example must be a mapping"), number)
            continue
        context = _jsonable(example)
        base = {"id": f"example-{number}"}  # every real request has an id (Slack buttons use it)
        try:
            messages = [compiled.render(context, None, base=base)]
        except TemplateContextError as exc:
            for p in exc.problems:
                add(TemplateProblem(("examples", i, *p.location), None, p.message), number)
            continue
        except TemplateRenderError:
            # Render part by part, so that every broken part is reported, not just the first.
            message, errors = compiled.render_collecting(context, base=base)
            for error in errors:
                add(error.problem(), number)
            messages = [message]
        for message in messages:
            for problem in _check_message(message):
                add(problem, number)
    return problems


def undeclared_variables(template: TemplateVersion | CompiledTemplate) -> set[str]:
    """Names the template reads that are neither declared, request fields, nor Jinja globals."""
    compiled = template if isinstance(template, CompiledTemplate) else compiled_for(template)
    return set(compiled.undeclared)


def undeclared_problems(compiled: CompiledTemplate) -> list[TemplateProblem]:
    """The same names as warnings, each at its first use."""
    return [
        TemplateProblem(
            location,
            line,
            f"variable {name!r} is used but not declared under variables.properties "
            "(declare it, with a default if it is optional)",
            "warning",
        )
        for name, (location, line) in sorted(compiled.undeclared.items())
    ]
