"""A template version cut into pieces (one Jinja source each) and the shapes of its variants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template

from notifierd.config.model import TemplateVersion
from notifierd.templates.errors import Location, TemplateProblem
from notifierd.templates.fast_path import Segment

_MARKERS = ("{{", "{%", "{#")
_WRAPPED_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Piece:
    """One Jinja source of the file: subject, text, html, a variant's string leaf, an ``if``."""

    location: Location
    source: str
    kind: str  # "text", "html" (autoescaped) or "cond" (an ``if:`` expression)
    block: str | None = None  # the block in the compiled template; None for a constant
    first_line: int = 1  # line of the compiled source where the piece starts
    template: Template | None = field(default=None, compare=False, repr=False)
    names: tuple[tuple[str, int], ...] = ()  # (name, line) it reads and does not assign itself
    fast: tuple[Segment, ...] | None = None  # set when the fast path evaluates it

    def wrapped(self) -> str:
        # Jinja drops one trailing newline of a template; do the same for every piece.
        src = self.source[:-1] if self.source.endswith("\n") else self.source
        if self.kind == "html":
            src = "{% autoescape true %}" + src + "{% endautoescape %}"
        elif self.kind == "cond":
            src = "{% if (" + src + ") %}1{% endif %}"
        return "{% block " + str(self.block) + " %}" + src + "{% endblock %}"


class Slot:
    """A templated leaf inside a variant's structure: the index of its piece."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class Cond:
    """A mapping with an ``if:`` key: kept only when the condition holds."""

    __slots__ = ("node", "test")

    def __init__(self, test: int | bool, node: Any) -> None:
        self.test = test  # a piece index, or a constant
        self.node = node


@dataclass(frozen=True, slots=True)
class Shapes:
    """Where each part of a version renders from: piece indexes, or variant structures."""

    subject: int
    text: int
    html: int | None = None
    slack: Any = None  # the Block Kit structure with Slot and Cond in it, or None
    teams: Any = None


class _Collector:
    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self.problems: list[TemplateProblem] = []

    def add(self, location: Location, source: str, kind: str = "text") -> int:
        templated = kind == "cond" or any(m in source for m in _MARKERS)
        block = f"_nfd{len(self.pieces)}" if templated else None
        value = source if templated else (source[:-1] if source.endswith("\n") else source)
        self.pieces.append(Piece(location, value, kind, block))
        return len(self.pieces) - 1

    def shape(self, value: Any, location: Location) -> Any:
        if isinstance(value, str):
            if not any(m in value for m in _MARKERS):
                return value  # most leaves ("type: section") need no Jinja at all
            return Slot(self.add(location, value))
        if isinstance(value, Mapping):
            node = {k: self.shape(v, (*location, str(k))) for k, v in value.items() if k != "if"}
            if "if" not in value:
                return node
            return Cond(self.condition(value["if"], (*location, "if")), node)
        if isinstance(value, (list, tuple)):
            return [self.shape(item, (*location, i)) for i, item in enumerate(value)]
        return value

    def condition(self, test: Any, location: Location) -> int | bool:
        if isinstance(test, bool) or test is None:
            return bool(test)
        if not isinstance(test, str):
            self.problems.append(
                TemplateProblem(location, None, "`if` takes a Jinja expression such as `reviewers`")
            )
            return True
        wrapped = _WRAPPED_EXPRESSION.match(test)  # tolerate `if: "{{ reviewers }}"`
        return self.add(location, wrapped.group(1) if wrapped else test, "cond")


def cut(tv: TemplateVersion) -> tuple[list[Piece], Shapes, list[TemplateProblem]]:
    """The pieces of ``tv`` (not compiled yet), its shapes, and problems found on the way."""
    collector = _Collector()
    subject = collector.add(("subject",), str(tv.subject or ""))
    text = collector.add(("text",), str(tv.text or ""))
    html = None if tv.html is None else collector.add(("html",), str(tv.html), "html")
    slack = None if tv.slack is None else collector.shape(tv.slack, ("slack",))
    teams = None if tv.teams is None else collector.shape(tv.teams, ("teams",))
    shapes = Shapes(subject, text, html, slack, teams)
    return collector.pieces, shapes, collector.problems
