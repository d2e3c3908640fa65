"""Compiling a template version (new pieces as one Jinja template) and rendering it per channel."""

from __future__ import annotations

import bisect
import json
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes

from notifierd.config.model import TemplateVersion
from notifierd.request import Request
from notifierd.templates import simple
from notifierd.templates.environment import ENV, GLOBAL_NAMES, optional, render_scope, run_block
from notifierd.templates.errors import (
    Location,
    TemplateCompileError,
    TemplateContextError,
    TemplateProblem,
    TemplateRenderError,
)
from notifierd.templates.message import (
    VARIANTS_FOR,
    RenderedMessage,
    build_message,
    check_channel_type,
)
from notifierd.templates.slack import clamp_blocks

# The request fields every template sees, below its ``context`` (Request.base_context()).
BASE_FIELDS = frozenset(
    {"id", "title", "message", "severity", "priority", "source", "protocol"}
    | {"kind", "action", "tags", "labels", "metadata"}
)
_MARKERS = ("{{", "{%", "{#")
_WRAPPED_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)
_NEWLINE_RUN = re.compile(r"\s*\n\s*")
_BLANK_LINES = re.compile(r"\n{3,}")
_FORBIDDEN: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
}
_MAX_MESSAGE = 300
_VARIANTS = frozenset({"html", "slack", "teams"})


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
    simple: tuple[simple.Segment, ...] | None = None  # set when the fast path evaluates it

    def wrapped(self) -> str:
        # Jinja drops one trailing newline of a template; do the same for every piece.
        src = self.source[:-1] if self.source.endswith("\n") else self.source
        if self.kind == "html":
            src = "{% autoescape true %}" + src + "{% endautoescape %}"
        elif self.kind == "cond":
            src = "{% if (" + src + ") %}1{% endif %}"
        return "{% block " + str(self.block) + " %}" + src + "{% endblock %}"


class _Slot:
    """A templated leaf inside a variant's structure: the index of its piece."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Cond:
    """A mapping with an ``if:`` key: kept only when the condition holds."""

    __slots__ = ("node", "test")

    def __init__(self, test: int | bool, node: Any) -> None:
        self.test = test  # a piece index, or a constant
        self.node = node


_DROP = object()


class _Builder:
    """Collects the pieces of one template version and the shapes of its variants."""

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
            return _Slot(self.add(location, value))
        if isinstance(value, Mapping):
            node = {k: self.shape(v, (*location, str(k))) for k, v in value.items() if k != "if"}
            if "if" not in value:
                return node
            return _Cond(self.condition(value["if"], (*location, "if")), node)
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


class CompiledTemplate:
    """A template version compiled once; ``render`` is cheap and safe to call concurrently."""

    def __init__(
        self,
        version: TemplateVersion,
        pieces: tuple[Piece, ...],
        shapes: dict[str, Any],
        undeclared: dict[str, tuple[Location, int | None]],
    ) -> None:
        self.version = version
        self.pieces = pieces
        self._subject: int = shapes["subject"]
        self._text: int = shapes["text"]
        self._html: int | None = shapes.get("html")
        self._slack: Any = shapes.get("slack")
        self._teams: Any = shapes.get("teams")
        # name -> (location, line) of its first use; not declared, not a request field.
        self.undeclared = undeclared
        variables = version.variables if isinstance(version.variables, Mapping) else {}
        properties = variables.get("properties")
        self._properties: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
        required = variables.get("required")
        self._required = frozenset(required) if isinstance(required, list) else frozenset()
        self._defaults = {
            name: spec["default"]
            for name, spec in self._properties.items()
            if isinstance(spec, Mapping) and "default" in spec
        }
        self._validator: Any = None
        self._globals = dict(ENV.globals)

    @property
    def ref(self) -> str:
        return self.version.ref

    def __repr__(self) -> str:
        return f"<CompiledTemplate {self.ref}>"

    # -- context ---------------------------------------------------------------------------

    def check_context(self, instance: Mapping[str, Any]) -> list[TemplateProblem]:
        """``instance`` against the ``variables`` schema; locations are paths in the context."""
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(dict(self.version.variables or {}))
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
        """Defaults < request fields (``base``) < ``context``, checked against ``variables``."""
        context = context or {}
        present = {k: v for k, v in (base or {}).items() if v is not None and k not in context}
        # Request fields only count towards the schema where the template declares them, so
        # ``additionalProperties: false`` still applies to the producer's own context.
        declared = {
            k: v for k, v in present.items() if k in self._properties or k in self._required
        }
        problems = self.check_context({**self._defaults, **declared, **context})
        # A request field that does not fit the template's variable of the same name (request
        # ``labels`` is a mapping, pr_notification's a list) is not that variable: drop it.
        unfit = {p.location[0] for p in problems if p.location and p.location[0] in declared}
        if unfit:
            present = {k: v for k, v in present.items() if k not in unfit}
            declared = {k: v for k, v in declared.items() if k not in unfit}
            problems = self.check_context({**self._defaults, **declared, **context})
        if problems:
            raise TemplateContextError([p.message for p in problems], problems)
        merged = {**self._defaults, **present, **context}
        for name in (*self._properties, *BASE_FIELDS):
            if name not in merged:
                merged[name] = optional(name)  # declared but absent: renders empty, not an error
        return merged

    # -- rendering ---------------------------------------------------------------------------

    def _piece(self, index: int, parent: dict[str, Any]) -> str:
        piece = self.pieces[index]
        if piece.simple is not None:
            if piece.kind == "cond":
                hole = piece.simple[0]
                assert isinstance(hole, simple.Hole)
                return "1" if simple.truthy(hole, parent, piece.location) else ""
            return simple.render(piece.simple, parent, piece.location, piece.kind == "html")
        if piece.block is None or piece.template is None:
            return piece.source
        return run_block(piece.template, piece.block, parent, piece.location, piece.first_line)

    def _fill(self, shape: Any, parent: dict[str, Any]) -> Any:
        if isinstance(shape, _Slot):
            # Loops leave a trailing newline in leaves; Slack and Teams would trim it anyway.
            return self._piece(shape.index, parent).rstrip()
        if isinstance(shape, _Cond):
            keep = shape.test if isinstance(shape.test, bool) else self._piece(shape.test, parent)
            return self._fill(shape.node, parent) if keep else _DROP
        if isinstance(shape, dict):
            filled = {k: self._fill(v, parent) for k, v in shape.items()}
            return {k: v for k, v in filled.items() if v is not _DROP}
        if isinstance(shape, list):
            items = [self._fill(item, parent) for item in shape]
            return [item for item in items if item is not _DROP]
        return shape

    def _variant(self, name: str, shape: Any, parent: dict[str, Any]) -> Any:
        value = self._fill(shape, parent)
        if value is _DROP:
            return None  # an `if:` on the whole variant: fall back to subject + text
        if isinstance(value, str):  # a variant written as one JSON string
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise TemplateRenderError(
                    f"the {name} variant did not render to valid JSON: {exc}", (name,)
                ) from None
        return value

    def render(
        self,
        context: Mapping[str, Any] | None = None,
        channel_type: str | None = None,
        *,
        base: Mapping[str, Any] | None = None,
    ) -> RenderedMessage:
        """Render for ``channel_type`` (None: every channel type); ``base`` = request fields.

        Raises TemplateContextError (context does not fit ``variables``) or TemplateRenderError
        (TemplateSecurityError for sandbox violations).
        """
        return self._render(context, channel_type, base, None)

    def render_collecting(
        self, context: Mapping[str, Any] | None = None, *, base: Mapping[str, Any] | None = None
    ) -> tuple[RenderedMessage, list[TemplateRenderError]]:
        """Render every part, collecting each part's failure instead of stopping at the first."""
        errors: list[TemplateRenderError] = []
        return self._render(context, None, base, errors), errors

    def _render(
        self,
        context: Mapping[str, Any] | None,
        channel_type: str | None,
        base: Mapping[str, Any] | None,
        errors: list[TemplateRenderError] | None,
    ) -> RenderedMessage:
        wants = VARIANTS_FOR.get(channel_type)
        if wants is None:
            check_channel_type(channel_type)
            wants = frozenset()
        ctx = self.build_context(context, base)
        parent = {**self._globals, **ctx}

        def part(render: Callable[[], Any], failed: Any) -> Any:
            if errors is None:
                return render()
            try:
                return render()
            except TemplateRenderError as exc:
                errors.append(exc)
                return failed

        html = slack = teams = None
        with render_scope():
            subject = part(lambda: _clean_subject(self._piece(self._subject, parent)), "")
            text = part(lambda: _clean_text(self._piece(self._text, parent)), "")
            variant_parent = {**parent, "subject": subject}
            html_index = self._html
            if html_index is not None and "html" in wants:
                html = part(lambda: self._piece(html_index, variant_parent), None)
            if self._slack is not None and "slack" in wants:
                slack = part(lambda: self._variant("slack", self._slack, variant_parent), None)
                if isinstance(slack, list):
                    slack = clamp_blocks(slack)
            if self._teams is not None and "teams" in wants:
                teams = part(lambda: self._variant("teams", self._teams, variant_parent), None)
        return build_message(
            subject,
            text,
            channel_type,
            slack_blocks=slack,
            html=html,
            teams_card=teams,
            template=self.ref,
        )

    def render_request(self, request: Request, channel_type: str | None = None) -> RenderedMessage:
        """Render with the request's fields laid under its ``context``."""
        return self.render(request.context, channel_type, base=request.base_context())


def _clean_subject(subject: str) -> str:
    # A subject is one line: e-mail headers and Slack headers have no room for newlines.
    return _NEWLINE_RUN.sub(" ", subject).strip()


def _clean_text(text: str) -> str:
    lines = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip("\n")


# -- compiling -------------------------------------------------------------------------------


def _collect(tv: TemplateVersion) -> tuple[_Builder, dict[str, Any]]:
    builder = _Builder()
    shapes: dict[str, Any] = {
        "subject": builder.add(("subject",), str(tv.subject or "")),
        "text": builder.add(("text",), str(tv.text or "")),
    }
    if tv.html is not None:
        shapes["html"] = builder.add(("html",), str(tv.html), "html")
    if tv.slack is not None:
        shapes["slack"] = builder.shape(tv.slack, ("slack",))
    if tv.teams is not None:
        shapes["teams"] = builder.shape(tv.teams, ("teams",))
    return builder, shapes


_UNCLOSED = re.compile(r"innermost block that needs to be closed is '(\w+)'")


def _syntax_problem(piece: Piece, exc: TemplateSyntaxError, line: int | None) -> TemplateProblem:
    message = exc.message or str(exc)
    unclosed = _UNCLOSED.search(message)
    if "unknown tag 'endblock'" in message and unclosed:
        # Each piece is compiled inside a block of our own; name the author's tag, not ours.
        tag = unclosed.group(1)
        message = f"'{{% {tag} %}}' is never closed: add '{{% end{tag} %}}'"
    if piece.kind == "cond":
        message = f"invalid `if` expression: {message}"
    return TemplateProblem(piece.location, line, message)


def _locate_syntax_errors(
    pieces: list[Piece], combined: TemplateSyntaxError, starts: list[int]
) -> list[TemplateProblem]:
    """Compile each piece on its own: every broken piece reports with its own line."""
    problems = []
    for piece in pieces:
        try:
            ENV.compile(piece.wrapped(), name=piece.block)
        except TemplateSyntaxError as exc:
            problems.append(_syntax_problem(piece, exc, exc.lineno))
    if not problems:  # only the combination fails (e.g. a block name used twice)
        piece = pieces[max(bisect.bisect_right(starts, combined.lineno or 1) - 1, 0)]
        line = (combined.lineno or piece.first_line) - piece.first_line + 1
        problems.append(_syntax_problem(piece, combined, line))
    return problems


def _scan(
    block: nodes.Block, first_line: int, location: Location
) -> tuple[tuple[tuple[str, int], ...], list[TemplateProblem]]:
    """One walk over a piece: the names it reads but does not assign, and forbidden tags."""
    loads: list[tuple[str, int]] = []
    assigned: set[str] = set()
    problems: list[TemplateProblem] = []
    stack: list[nodes.Node] = [block]
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.Name):
            if node.ctx == "load":
                loads.append((node.name, node.lineno - first_line + 1))
            else:  # store (set, for, with) or param (macro arguments)
                assigned.add(node.name)
        elif type(node) in _FORBIDDEN:
            tag = _FORBIDDEN[type(node)]
            message = f"{tag} is not available: a template version is self-contained"
            problems.append(TemplateProblem(location, node.lineno - first_line + 1, message))
        stack.extend(node.iter_child_nodes())
    names: dict[str, int] = {}
    for name, line in sorted(loads, key=lambda item: item[1]):
        if name not in assigned:
            names.setdefault(name, line)
    return tuple(names.items()), problems


# Compiled pieces by (kind, source). Versions of one template share most of their pieces, and
# leaves such as "{{ subject }}" recur everywhere: each distinct source is compiled once.
_CACHE_SIZE = 20_000
_cache: OrderedDict[tuple[str, str], Piece] = OrderedDict()
_cache_lock = threading.Lock()


def _cached(piece: Piece) -> Piece | None:
    with _cache_lock:
        hit = _cache.get((piece.kind, piece.source))
        if hit is not None:
            _cache.move_to_end((piece.kind, piece.source))
    return None if hit is None else replace(hit, location=piece.location)


def _remember(pieces: list[Piece]) -> None:
    with _cache_lock:
        for piece in pieces:
            _cache[(piece.kind, piece.source)] = piece
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _fast(piece: Piece) -> Piece | None:
    """The piece on the fast path (no Jinja compilation), when it is simple enough."""
    if piece.kind == "cond":
        hole = simple.parse_expression(piece.source)
        segments: tuple[simple.Segment, ...] | None = None if hole is None else (hole,)
    else:
        segments = simple.parse(piece.source)
    if segments is None:
        return None
    return replace(piece, simple=segments, names=simple.names(segments))


def _compile_new(pieces: list[Piece], name: str) -> tuple[list[Piece], list[TemplateProblem]]:
    """Compile pieces not seen before as one Jinja template, one block each."""
    numbered: list[Piece] = []
    starts: list[int] = []
    line = 1
    for i, piece in enumerate(pieces):
        numbered.append(replace(piece, block=f"_nfd{i}", first_line=line))
        starts.append(line)
        line += numbered[-1].wrapped().count("\n") + 1
    source = "\n".join(p.wrapped() for p in numbered)
    filename = f"<template {name}>"
    problems: list[TemplateProblem] = []
    try:
        ast = ENV.parse(source, name=name, filename=filename)
        by_block = {p.block: i for i, p in enumerate(numbered)}
        for block in ast.body:
            if isinstance(block, nodes.Block) and block.name in by_block:
                i = by_block[block.name]
                names, found = _scan(block, numbered[i].first_line, numbered[i].location)
                numbered[i] = replace(numbered[i], names=names)
                problems += found
        if problems:
            return numbered, problems
        code = ENV.compile(ast, name=name, filename=filename)
    except TemplateSyntaxError as exc:
        return numbered, _locate_syntax_errors(numbered, exc, starts)
    template = ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)
    return [replace(p, template=template) for p in numbered], problems


def compile_template(tv: TemplateVersion) -> CompiledTemplate:
    """Compile every piece of ``tv`` (new ones as one Jinja template); errors as problems."""
    builder, shapes = _collect(tv)
    pieces = list(builder.pieces)
    problems = list(builder.problems)
    new: list[int] = []
    for i, piece in enumerate(pieces):
        if piece.block is not None:
            fast = _fast(piece)
            if fast is not None:
                pieces[i] = fast
                continue
            hit = _cached(piece)
            if hit is None:
                new.append(i)
            else:
                pieces[i] = hit
    if new:
        fresh, found = _compile_new([pieces[i] for i in new], tv.ref)
        problems += found
        if not found:
            _remember(fresh)
        for i, piece in zip(new, fresh, strict=True):
            pieces[i] = replace(piece, location=pieces[i].location)
    if any(p.severity == "error" for p in problems):
        raise TemplateCompileError(problems)
    properties = (tv.variables or {}).get("properties") or {}
    known = GLOBAL_NAMES | BASE_FIELDS | frozenset(properties)
    undeclared: dict[str, tuple[Location, int | None]] = {}
    for piece in pieces:
        allowed = known | {"subject"} if piece.location[0] in _VARIANTS else known
        for name, line in piece.names:
            if name not in allowed and name not in undeclared:
                undeclared[name] = (piece.location, line)
    compiled = CompiledTemplate(tv, tuple(pieces), shapes, undeclared)
    _by_version[id(tv)] = compiled
    return compiled


# The compiled template of each version still in use, so that checks asked about a version
# right after compiling it (validate: compile, then undeclared_variables) do not compile twice.
_by_version: weakref.WeakValueDictionary[int, CompiledTemplate] = weakref.WeakValueDictionary()


def compiled_for(tv: TemplateVersion) -> CompiledTemplate:
    """``tv`` compiled: the existing compilation when there is one, else a new one."""
    found = _by_version.get(id(tv))
    if found is not None and found.version is tv:
        return found
    return compile_template(tv)
