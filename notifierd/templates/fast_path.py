"""A fast path for pieces that are text with plain ``{{ name.attr|filter(literal) }}`` holes.

Most Slack and Teams leaves, subjects and ``if:`` conditions look like that. Jinja spends
~0.3 ms or more compiling even such a piece (parse, generate Python, compile it), and a
repository holds thousands of them; this module evaluates them directly with the same
sandboxed environment (its getattr, filters and finalize), so the result is the same as
Jinja's. Anything beyond this grammar goes to Jinja.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Private Jinja API, checked on 3.1 (see the pin in pyproject.toml): _PassArg is how Jinja marks
# what a filter wants first (environment, eval context); EvalContext is made here as Jinja's
# generated code makes it. tests/unit/test_templates_fast_path.py compares the result with Jinja.
from jinja2.nodes import EvalContext
from jinja2.utils import _PassArg
from markupsafe import escape

from notifierd.templates.environment import ENV, MAX_OUTPUT, MissingVariable, too_big, translate
from notifierd.templates.errors import Location

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STRING = r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\""
_ARGS = rf"\((?:{_STRING}|[^()'\"])*\)"
_EXPRESSION = re.compile(
    rf"\s*(?P<target>{_NAME}(?:\.{_NAME}|\[\d+\])*)"
    rf"(?P<filters>(?:\s*\|\s*{_NAME}\s*(?:{_ARGS})?)*)\s*$"
)
_FILTER = re.compile(rf"\|\s*(?P<name>{_NAME})\s*(?P<args>{_ARGS})?")
_STEP = re.compile(rf"\.({_NAME})|\[(\d+)\]")
_HOLE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Jinja reads these as constants, operators or special names, not as context variables.
_KEYWORDS = frozenset(
    {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if"}
    | {"else", "self", "loop", "caller", "varargs", "kwargs"}
)


@dataclass(frozen=True, slots=True)
class _Filter:
    func: Callable[..., Any]
    pass_arg: _PassArg | None
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Hole:
    """One ``{{ ... }}``: a variable, attribute/index steps, filters; ``line`` in the piece."""

    name: str
    steps: tuple[str | int, ...]
    filters: tuple[_Filter, ...]
    line: int


Segment = str | Hole


def _literal_args(text: str | None) -> tuple[Any, ...] | None:
    if not text or not text[1:-1].strip():
        return ()
    try:
        value = ast.literal_eval(f"({text[1:-1]},)")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None  # keyword arguments, names, Jinja-only literals: let Jinja do it
    return value if isinstance(value, tuple) else None


def parse_expression(text: str, line: int = 1) -> Hole | None:
    """The hole for ``text`` (the inside of ``{{ }}``), or None when Jinja must handle it."""
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        return None
    target = match["target"]
    name = re.match(_NAME, target).group(0)  # type: ignore[union-attr]
    if name in _KEYWORDS:
        return None
    steps: list[str | int] = []
    for attr, index in _STEP.findall(target[len(name) :]):
        if attr in _KEYWORDS:
            return None
        steps.append(attr if attr else int(index))
    filters = []
    for found in _FILTER.finditer(match["filters"]):
        func = ENV.filters.get(found["name"])
        args = _literal_args(found["args"])
        if func is None or args is None:
            return None  # an unknown filter gets Jinja's own error message
        pass_arg = _PassArg.from_obj(func)
        if pass_arg is _PassArg.context:
            return None
        filters.append(_Filter(func, pass_arg, args))
    return Hole(name, tuple(steps), tuple(filters), line)


def parse(source: str) -> tuple[Segment, ...] | None:
    """Segments of ``source`` if every part of it fits the fast path, else None."""
    if "{%" in source or "{#" in source or "\r" in source:
        return None
    if source.endswith("\n"):  # as Jinja: one trailing newline is dropped
        source = source[:-1]
    segments: list[Segment] = []
    position = 0
    for match in _HOLE.finditer(source):
        inner = match.group(1)
        if inner.startswith(("-", "+")) or inner.endswith(("-", "+")) or "{" in inner:
            return None  # whitespace control or nested braces
        hole = parse_expression(inner, source.count("\n", 0, match.start()) + 1)
        if hole is None:
            return None
        if match.start() > position:
            segments.append(source[position : match.start()])
        segments.append(hole)
        position = match.end()
    if "{{" in source[position:] or "}}" in source[position:]:
        return None
    if position < len(source):
        segments.append(source[position:])
    return tuple(segments)


def evaluate(hole: Hole, parent: dict[str, Any], autoescape: bool = False) -> Any:
    """The value of ``hole`` in ``parent``, looked up and filtered as Jinja's generated code does."""
    value = parent.get(hole.name, MissingVariable(name=hole.name))
    for step in hole.steps:
        value = ENV.getattr(value, step) if isinstance(step, str) else ENV.getitem(value, step)
    for f in hole.filters:
        if f.pass_arg is _PassArg.eval_context:
            eval_ctx = EvalContext(ENV)
            eval_ctx.autoescape = autoescape
            value = f.func(eval_ctx, value, *f.args)
        elif f.pass_arg is _PassArg.environment:
            value = f.func(ENV, value, *f.args)
        else:
            value = f.func(value, *f.args)
    return value


def render(
    segments: tuple[Segment, ...], parent: dict[str, Any], location: Location, autoescape: bool
) -> str:
    parts: list[str] = []
    size = 0
    for segment in segments:
        if isinstance(segment, str):
            parts.append(segment)
            continue
        try:
            value = ENV.finalize(evaluate(segment, parent, autoescape))  # type: ignore[misc]
            text = str(escape(value)) if autoescape else str(value)
        except Exception as exc:
            raise translate(exc, location, segment.line) from None
        size += len(text)
        if size > MAX_OUTPUT:
            raise translate(too_big(f"the rendered {'.'.join(map(str, location))}"), location, None)
        parts.append(text)
    return "".join(parts)


def truthy(hole: Hole, parent: dict[str, Any], location: Location) -> bool:
    """An ``if:`` condition that is a plain variable (with filters)."""
    try:
        return bool(evaluate(hole, parent))
    except Exception as exc:
        raise translate(exc, location, hole.line) from None


def names(segments: tuple[Segment, ...]) -> tuple[tuple[str, int], ...]:
    """(name, line) of every variable the segments read, first use only."""
    seen: dict[str, int] = {}
    for segment in segments:
        if isinstance(segment, Hole):
            seen.setdefault(segment.name, segment.line)
    return tuple(seen.items())
