"""Compiling a template version: new pieces as one Jinja template, simple ones on the fast path."""

from __future__ import annotations

import bisect
import os
import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import replace

from jinja2 import TemplateSyntaxError, nodes

from notifierd.config.model import TemplateVersion
from notifierd.templates import fast_path
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.environment import ENV, GLOBAL_NAMES
from notifierd.templates.errors import Location, TemplateCompileError, TemplateProblem
from notifierd.templates.pieces import Piece, cut
from notifierd.templates.shapes import compile_by_shape
from notifierd.templates.variables import BASE_FIELDS, TemplateVariables

_FORBIDDEN: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
}
_VARIANTS = frozenset({"html", "slack", "teams"})  # where the rendered `subject` is a name too
# Jinja's own message when a piece leaves a tag open inside our wrapping block (checked on 3.1).
_UNCLOSED = re.compile(r"innermost block that needs to be closed is '(\w+)'")


# A reload validates in a child forked from the daemon (notifierd/offloop.py) while the event
# loop may be compiling a template: forked in mid-compile, the child would hold this module's and
# Jinja's cache locks forever. Compiling holds this lock, and a fork waits for it.
_COMPILING = threading.RLock()
os.register_at_fork(
    before=_COMPILING.acquire,
    after_in_parent=_COMPILING.release,
    after_in_child=_COMPILING.release,  # the forking thread is the child's one thread
)


class PieceCache:
    """Compiled pieces by (kind, source), least recently used dropped first.

    Versions of one template share most of their pieces, and leaves such as "{{ subject }}"
    recur everywhere: each distinct source is compiled once. The key is the source itself, so
    an entry can never stand for a different piece.
    """

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._pieces: OrderedDict[tuple[str, str], Piece] = OrderedDict()
        # A reload validates (and compiles) in a worker thread while the loop renders.
        self._lock = threading.Lock()

    def get(self, piece: Piece) -> Piece | None:
        key = (piece.kind, piece.source)
        with self._lock:
            hit = self._pieces.get(key)
            if hit is not None:
                self._pieces.move_to_end(key)
        return None if hit is None else replace(hit, location=piece.location)

    def put(self, pieces: list[Piece]) -> None:
        with self._lock:
            for piece in pieces:
                self._pieces[(piece.kind, piece.source)] = piece
            while len(self._pieces) > self._size:
                self._pieces.popitem(last=False)


class TemplateCompiler:
    """Compiles template versions, sharing compiled pieces and remembering live compilations."""

    def __init__(self, pieces: PieceCache | None = None) -> None:
        self.pieces = pieces or PieceCache()
        # The compilation of each version still in use, so that a check asked about a version
        # right after compiling it (compile, then undeclared_variables) does not compile twice.
        # Keyed by the version's file and ref, and used only when the version it compiled is
        # equal to the one asked about (an id() can be reused by a new object once the old one
        # is collected; a digest of the content cost a hundredth of a cold validate); the weak
        # values drop versions no one renders.
        self._by_version: weakref.WeakValueDictionary[tuple[str, str, str], CompiledTemplate] = (
            weakref.WeakValueDictionary()
        )

    def compile(self, tv: TemplateVersion) -> CompiledTemplate:
        """Compile every piece of ``tv`` (new ones as one Jinja template); errors as problems."""
        with _COMPILING:
            return self._compile(tv)

    def _compile(self, tv: TemplateVersion) -> CompiledTemplate:
        pieces, shapes, problems = cut(tv)
        new: list[int] = []
        for i, piece in enumerate(pieces):
            if piece.block is None:
                continue
            fast = _on_fast_path(piece)
            if fast is not None:
                pieces[i] = fast
                continue
            hit = self.pieces.get(piece)
            if hit is None:
                new.append(i)
            else:
                pieces[i] = hit
        if new:
            fresh, found = _compile_new([pieces[i] for i in new], tv.ref)
            problems += found
            if not found:
                self.pieces.put(fresh)
            for i, piece in zip(new, fresh, strict=True):
                pieces[i] = replace(piece, location=pieces[i].location)
        if any(p.severity == "error" for p in problems):
            raise TemplateCompileError(problems)
        variables = TemplateVariables(tv.variables)
        undeclared = _undeclared(
            pieces, GLOBAL_NAMES | BASE_FIELDS | frozenset(variables.properties)
        )
        compiled = CompiledTemplate(tv, tuple(pieces), shapes, undeclared, variables)
        self._by_version[_version_key(tv)] = compiled
        return compiled

    def compiled_for(self, tv: TemplateVersion) -> CompiledTemplate:
        """``tv`` compiled: the existing compilation of an equal version, else a new one."""
        found = self._by_version.get(_version_key(tv))
        if found is not None and found.version == tv:
            return found
        return self.compile(tv)


def _version_key(tv: TemplateVersion) -> tuple[str, str, str]:
    return tv.path, tv.name, tv.version


def _undeclared(
    pieces: list[Piece], known: frozenset[str]
) -> dict[str, tuple[Location, int | None]]:
    """Each name read that is not ``known``, at its first use."""
    undeclared: dict[str, tuple[Location, int | None]] = {}
    for piece in pieces:
        allowed = known | {"subject"} if piece.location[0] in _VARIANTS else known
        for name, line in piece.names:
            if name not in allowed and name not in undeclared:
                undeclared[name] = (piece.location, line)
    return undeclared


def _on_fast_path(piece: Piece) -> Piece | None:
    """The piece on the fast path (no Jinja compilation), when it is simple enough."""
    if piece.kind == "cond":
        hole = fast_path.parse_expression(piece.source)
        segments: tuple[fast_path.Segment, ...] | None = None if hole is None else (hole,)
    else:
        segments = fast_path.parse(piece.source)
    if segments is None:
        return None
    return replace(piece, fast=segments, names=fast_path.names(segments))


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

    def learn(ast: nodes.Template) -> list[tuple[tuple[str, int], ...]] | None:
        """Each piece's names, when no piece has a problem (else: compile the source itself)."""
        scanned = _scan_blocks(ast, numbered)
        return None if any(found for _, found in scanned) else [names for names, _ in scanned]

    by_shape = compile_by_shape(source, name, filename, learn)
    if by_shape is not None:
        code, names = by_shape
        template = ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)
        return [
            replace(p, names=n, template=template) for p, n in zip(numbered, names, strict=True)
        ], []
    problems: list[TemplateProblem] = []
    try:
        ast = ENV.parse(source, name=name, filename=filename)
        for i, (names, found) in enumerate(_scan_blocks(ast, numbered)):
            numbered[i] = replace(numbered[i], names=names)
            problems += found
        if problems:
            return numbered, problems
        code = ENV.compile(ast, name=name, filename=filename)
    except TemplateSyntaxError as exc:
        return numbered, _locate_syntax_errors(numbered, exc, starts)
    # Private API (checked on Jinja 3.1): a Template from code we compiled from our own AST, so
    # the AST walked by _scan is parsed once; Environment.from_string would parse it again.
    template = ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)
    return [replace(p, template=template) for p in numbered], problems


def _scan_blocks(
    ast: nodes.Template, numbered: list[Piece]
) -> list[tuple[tuple[tuple[str, int], ...], list[TemplateProblem]]]:
    """Each piece's names and problems, from its block in ``ast``."""
    scanned: list[tuple[tuple[tuple[str, int], ...], list[TemplateProblem]]]
    scanned = [((), []) for _ in numbered]
    by_block = {p.block: i for i, p in enumerate(numbered)}
    for block in ast.body:
        if isinstance(block, nodes.Block) and block.name in by_block:
            i = by_block[block.name]
            scanned[i] = _scan(block, numbered[i].first_line, numbered[i].location)
    return scanned


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


# One compiler for the process: compiled pieces are pure functions of their source, so every
# snapshot (and validate's worker threads) can share them; a reload keeps what is still valid.
_COMPILER = TemplateCompiler()


def compile_template(tv: TemplateVersion) -> CompiledTemplate:
    """Compile every piece of ``tv`` (new ones as one Jinja template); errors as problems."""
    return _COMPILER.compile(tv)


def compiled_for(tv: TemplateVersion) -> CompiledTemplate:
    """``tv`` compiled: the existing compilation of an equal version, else a new one."""
    return _COMPILER.compiled_for(tv)
