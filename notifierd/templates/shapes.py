"""Compiling a Jinja source once per *shape*: its tokens with the literal text left out.

Versions of a template, and often different templates, differ only in their literal text
("tmpl_3 v2: ..."): the same tags and expressions on the same lines. Jinja's parser, code
generator and Python's ``compile()`` cost about a millisecond per version and see nothing of
that text but where it sits, and the generated code keeps each run of literal text as a string
constant (``yield '...'``). So a source whose shape was compiled before is not compiled again:
its text is written into a copy of that compilation's code objects, in place of the unique
placeholders the shape was compiled with. Lexing stays per source (it decides what is text:
``trim_blocks`` and ``lstrip_blocks`` strip around tags), and it is the cheap part.

Every Jinja node that carries literal text (``nodes.TemplateData``) reaches the code as a
constant or inside one joined constant, never through ``finalize`` or escaping (checked on
Jinja 3.1: ``CodeGenerator._output_child_to_const``, ``visit_TemplateData``), so writing the
text into those constants yields the code Jinja would have generated for the source itself;
``tests/unit/test_template_shapes.py`` compares the two.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.lexer import TOKEN_DATA, TokenStream
from jinja2.parser import Parser

from notifierd.templates.environment import ENV

# Unique to this process, so no template can contain it: a source that does is compiled as is.
_MARK = f"\ue000nfd{secrets.token_hex(6)}:"
_PLACEHOLDER = re.compile(re.escape(_MARK) + r"(\d+|name)\ue001")
_NAME = f"{_MARK}name\ue001"


@dataclass(frozen=True, slots=True)
class Shape:
    """One compiled shape: the module code with placeholders, and what was learnt from its AST
    (the same for every source of this shape: only literal text differs between them)."""

    code: CodeType
    facts: Any


class ShapeCache:
    """Compiled shapes by their token key, least recently used dropped first."""

    def __init__(self, size: int = 2_000) -> None:
        self._size = size
        self._shapes: OrderedDict[tuple[Any, ...], Shape] = OrderedDict()
        self._lock = threading.Lock()  # a reload compiles in a worker thread

    def get(self, key: tuple[Any, ...]) -> Shape | None:
        with self._lock:
            hit = self._shapes.get(key)
            if hit is not None:
                self._shapes.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], shape: Shape) -> None:
        with self._lock:
            self._shapes[key] = shape
            while len(self._shapes) > self._size:
                self._shapes.popitem(last=False)


_SHAPES = ShapeCache()


def compile_by_shape(
    source: str,
    name: str,
    filename: str,
    learn: Callable[[nodes.Template], Any],
) -> tuple[CodeType, Any] | None:
    """The code object Jinja would compile ``source`` to, and ``learn(ast)`` of its shape.

    ``learn`` runs once per shape, on the AST of the shape (placeholders where ``source`` has
    literal text, so it must not depend on that text); it returns None to refuse the shape
    (e.g. a forbidden tag), and so does this function when ``source`` does not lex or parse:
    the caller then compiles ``source`` itself, for the exact problems.
    """
    if _MARK in source:
        return None
    lexer = ENV.lexer
    try:
        # Raw tokens (Lexer.tokenize would also convert each one, which a hit does not need).
        raw = list(lexer.tokeniter(source, name, filename))
    except TemplateSyntaxError:
        return None
    texts: list[str] = []
    key: list[Any] = [source.count("\n")]
    for lineno, kind, value in raw:
        if kind == TOKEN_DATA:
            texts.append(lexer._normalize_newlines(value))
            key.append((lineno, TOKEN_DATA))
        else:
            key.append((lineno, kind, value))
    shape_key = tuple(key)
    shape = _SHAPES.get(shape_key)
    if shape is None:
        shape = _compile_shape(raw, name, filename, learn)
        if shape is None:
            return None
        _SHAPES.put(shape_key, shape)
    return _fill(shape.code, texts, name, filename), shape.facts


def _compile_shape(
    raw: list[tuple[int, str, str]],
    name: str,
    filename: str,
    learn: Callable[[nodes.Template], Any],
) -> Shape | None:
    placeholders = []
    texts = 0
    for lineno, kind, value in raw:
        if kind == TOKEN_DATA:
            value = f"{_MARK}{texts}\ue001"
            texts += 1
        placeholders.append((lineno, kind, value))
    # Private API (checked on Jinja 3.1): a parser over our token stream instead of a source.
    parser = Parser(ENV, "", _NAME, filename)
    try:
        tokens = ENV.lexer.wrap(iter(placeholders), _NAME, filename)
        parser.stream = TokenStream(tokens, _NAME, filename)
        ast = parser.parse()
    except TemplateSyntaxError:
        return None
    facts = learn(ast)
    if facts is None:
        return None
    try:  # the code generator refuses some more (an unknown filter or test)
        return Shape(ENV.compile(ast, name=_NAME, filename=filename), facts)
    except TemplateSyntaxError:
        return None


def _fill(code: CodeType, texts: list[str], name: str, filename: str) -> CodeType:
    """``code`` with each placeholder replaced by its text, in every nested code object."""

    def text(match: re.Match[str]) -> str:
        index = match.group(1)
        return name if index == "name" else texts[int(index)]

    def const(value: Any) -> Any:
        if isinstance(value, str):
            return _PLACEHOLDER.sub(text, value) if _MARK in value else value
        if isinstance(value, CodeType):
            return value.replace(
                co_consts=tuple(const(c) for c in value.co_consts), co_filename=filename
            )
        if isinstance(value, (tuple, frozenset)):  # constants Python folded together
            return type(value)(const(c) for c in value)
        return value

    filled: CodeType = const(code)
    return filled
