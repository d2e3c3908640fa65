"""YAML to plain Python values plus the line and column of every key and value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml is ~10x faster; fall back to pure Python where it is not built
    from yaml import CSafeLoader as _LibLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _LibLoader  # type: ignore[assignment]

Path_ = tuple[Any, ...]

_TAG = "tag:yaml.org,2002:"
# Scalars kept as their text. Timestamps too: the schemas validate them as RFC 3339 strings.
_TEXT_TAGS = frozenset({_TAG + "str", _TAG + "timestamp", _TAG + "binary"})
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None  # the scalar's quoting style: None (plain), "'", '"', "|", ">"


@dataclass(frozen=True, slots=True)
class YamlIssue:
    line: int
    column: int
    message: str


# Where a value or key stands, as the builder records it: (line, column, style), 1-based. A
# plain tuple, made a Mark when asked for: a file has a position per value and per key (80,000
# in the benchmark repository), and building a frozen dataclass for each cost a twentieth of a
# cold validate.
_Position = tuple[int, int, str | None]


@dataclass
class Document:
    """A parsed file: its data, and where each value (and each mapping key) stands."""

    data: Any
    values: dict[Path_, _Position]
    keys: dict[Path_, _Position]
    issues: list[YamlIssue]

    def value_mark(self, path: Path_) -> Mark:
        """The closest known position for ``path``: the value itself, else its nearest parent."""
        path = tuple(path)
        while path:
            if path in self.values:
                return Mark(*self.values[path])
            path = path[:-1]
        return Mark(*self.values.get((), (1, 1, None)))

    def key_mark(self, path: Path_) -> Mark:
        """Where the key of ``path`` stands (for unknown-key errors), else the value's position."""
        found = self.keys.get(tuple(path))
        return Mark(*found) if found else self.value_mark(path)


# The tag of each plain scalar seen, by its text (the benchmark repository has 2,500 different
# ones). Bounded, so a daemon does not keep every value it ever read; cleared when full.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_MAX = 10_000


class _Loader(_LibLoader):
    """The safe loader, resolving each distinct plain scalar's tag once.

    libyaml composes in C but asks the resolver, which is Python, for every scalar's tag, and
    the resolver tries its regular expressions one by one (a tenth of composing the benchmark
    repository). Without path resolvers (the safe loader has none) a plain scalar's tag depends
    on its text alone; quoted scalars and collections are left to the resolver.
    """

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(_PLAIN_TAGS) >= _PLAIN_TAGS_MAX:
                    _PLAIN_TAGS.clear()
                _PLAIN_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


class _Builder:
    def __init__(self) -> None:
        self.values: dict[Path_, _Position] = {}
        self.keys: dict[Path_, _Position] = {}
        self.issues: list[YamlIssue] = []
        self._scalars = SafeConstructor()

    def build(self, node: Node, path: Path_, depth: int = 0) -> Any:
        mark = node.start_mark
        scalar = node if isinstance(node, ScalarNode) else None
        style = (scalar.style or None) if scalar is not None else None
        self.values[path] = (mark.line + 1, mark.column + 1, style)
        if depth > _MAX_DEPTH:
            self._issue(node, "nesting too deep (recursive alias?)")
            return None
        if scalar is not None:
            return scalar.value if scalar.tag in _TEXT_TAGS else self._scalar(scalar)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        self._issue(node, "unsupported YAML node")  # pragma: no cover
        return None

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self._issue(
                    key_node, "YAML merge keys (<<) are not supported here; write the keys out"
                )
                continue
            if not isinstance(key_node, ScalarNode):
                self._issue(key_node, "mapping keys must be plain strings")
                continue
            key = key_node.value if key_node.tag in _TEXT_TAGS else self._scalar(key_node)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                key = str(key)
            if isinstance(key, (int, float, bool)) or key is None:
                key = key_node.value  # a key such as `1.0` or `on` is meant as text
            child = (*path, key)
            if key in out:
                first = self.keys[child]
                self._issue(
                    key_node,
                    f"duplicate key '{key}' (first defined at line {first[0]}); remove one",
                )
            mark = key_node.start_mark
            self.keys[child] = (mark.line + 1, mark.column + 1, None)
            out[key] = self.build(value_node, child, depth + 1)
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag in _TEXT_TAGS:
            return node.value
        try:
            return self._scalars.construct_object(node)
        except (ConstructorError, ValueError) as exc:
            self._issue(node, f"cannot read this value: {getattr(exc, 'problem', exc)}")
            return node.value

    def _issue(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.issues.append(YamlIssue(mark.line + 1, mark.column + 1, message))


def _tab_in_indentation(text: str, line: int) -> tuple[int, int] | None:
    """Line and column of the first tab in the indentation of ``line`` (1-based), if any."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    row = lines[line - 1]
    indentation = row[: len(row) - len(row.lstrip(" \t"))]
    return (line, indentation.index("\t") + 1) if "\t" in indentation else None


def parse(text: str) -> Document:
    """Parse one YAML document; syntax errors come back as issues, never exceptions."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        if "expected a single document" in str(exc) or "but found another document" in problem:
            problem, context = "only one YAML document is allowed per file (remove the '---')", ""
        tab = _tab_in_indentation(text, line)
        if tab is not None:
            # The parser's words ("cannot start any token") do not say what to change.
            (line, col), context = tab, ""
            problem = "a tab in the indentation; YAML indentation must use spaces, not tabs"
        return Document(
            None,
            {(): (line, col, None)},
            {},
            [YamlIssue(line, col, f"YAML syntax error: {problem}{context}")],
        )
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0]
        return Document(
            None, {(): (1, 1, None)}, {}, [YamlIssue(1, 1, f"YAML error: {first_line}")]
        )
    if node is None:
        return Document(None, {(): (1, 1, None)}, {}, [])
    builder = _Builder()
    data = builder.build(node, ())
    return Document(data, builder.values, builder.keys, builder.issues)
