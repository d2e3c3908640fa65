"""Config test cases: read ``<config>/tests/*.yaml``, validate them, keep where each key stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifierd.config.problems import Problem
from notifierd.config.repository import config_test_files
from notifierd.config.schema_errors import schema_problems
from notifierd.config.schemas import validator
from notifierd.config.yamlpos import Document, Mark, parse
from notifierd.intake.parse import request_problems


@dataclass(frozen=True, slots=True)
class OnCallCheck:
    """``oncall:`` in a case: ``person`` (None: nobody) is on call for ``schedule`` (an id or
    a handle) at ``at``."""

    schedule: str
    at: datetime
    person: str | None


@dataclass(frozen=True)
class Case:
    """One config test: a request, when it arrives, and what the config must do with it; and
    who must be on call when."""

    name: str
    path: str  # posix, relative to the config root, e.g. "tests/routing.yaml"
    line: int  # where the case starts (1-based)
    request: dict[str, Any] | None  # None: the case asserts only who is on call
    at: datetime | None  # None: now, UTC
    expect: dict[str, Any]
    index: int = 0  # position in the file's ``cases`` list
    # Instead of ``request``: the heartbeat whose late alert is the request (routes.yaml).
    heartbeat: str | None = None
    doc: Document | None = field(default=None, compare=False, repr=False)
    oncall: tuple[OnCallCheck, ...] = ()

    def mark(self, *path: Any) -> Mark:
        """Where ``expect.<path>`` stands in the file (the key, else the nearest parent)."""
        return self.mark_of("expect", *path)

    def mark_of(self, *path: Any) -> Mark:
        """Where ``<path>`` of the case stands in the file (the key, else the nearest parent)."""
        if self.doc is None:
            return Mark(self.line, 1)
        return self.doc.key_mark(("cases", self.index, *path))


def case_files(root: str | Path) -> list[Path]:
    """The case files of a config repository, sorted; empty when it has no tests folder."""
    return config_test_files(root)


def _parse_at(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def load_file(root: Path, path: Path) -> tuple[list[Case], list[Problem]]:
    """The valid cases of one file, and every problem found in it (located)."""
    rel = path.relative_to(root).as_posix()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(rel, 1, 1, f"cannot read test file: {exc}", code="io")]
    doc = parse(text)
    problems = [Problem(rel, i.line, i.column, i.message, code="yaml") for i in doc.issues]
    if problems:
        return [], problems
    if doc.data is None:
        return [], [Problem(rel, 1, 1, "test file is empty: it needs a 'cases' list", code="empty")]
    problems = schema_problems(doc.data, validator("tests"), doc, rel, "the test file")
    if problems:
        return [], problems
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(doc.data["cases"]):
        start = doc.value_mark(("cases", i))
        name = item["name"]
        if name in seen:
            m = doc.value_mark(("cases", i, "name"))
            problems.append(
                Problem(
                    rel,
                    m.line,
                    m.column,
                    f"duplicate case name '{name}' (first at line {seen[name]})",
                    code="duplicate-case",
                )
            )
            continue
        seen[name] = start.line
        bad = request_problems(item["request"]) if "request" in item else []
        if bad:
            m = doc.value_mark(("cases", i, "request"))
            problems += [
                Problem(rel, m.line, m.column, f"case '{name}': invalid request: {msg}")
                for msg in bad
            ]
            continue
        at = _time(doc, rel, name, ("cases", i, "at"), item.get("at"))
        if isinstance(at, Problem):
            problems.append(at)
            continue
        checks = [
            _oncall_check(doc, rel, name, (i, j), check, at)
            for j, check in enumerate(item.get("oncall", ()))
        ]
        wrong = [c for c in checks if isinstance(c, Problem)]
        if wrong:
            problems += wrong
            continue
        cases.append(
            Case(
                name=name,
                path=rel,
                line=start.line,
                request=item.get("request"),
                heartbeat=item.get("heartbeat"),
                at=at,
                expect=item.get("expect", {}),
                index=i,
                doc=doc,
                oncall=tuple(c for c in checks if isinstance(c, OnCallCheck)),
            )
        )
    return cases, problems


def _time(
    doc: Document, rel: str, name: str, path: tuple[Any, ...], text: str | None
) -> datetime | Problem | None:
    """The time ``text`` at ``path`` (None when absent), or the located problem with it."""
    if text is None:
        return None
    try:
        return _parse_at(text)
    except ValueError:
        m = doc.value_mark(path)
        return Problem(
            rel,
            m.line,
            m.column,
            f"case '{name}': 'at' must be an RFC 3339 time, e.g. 2026-11-25T12:00:00Z",
        )


def _oncall_check(
    doc: Document,
    rel: str,
    name: str,
    where: tuple[int, int],
    check: dict[str, Any],
    case_at: datetime | None,
) -> OnCallCheck | Problem:
    """``oncall[j]`` of case ``i`` (``where``), at its own time or the case's."""
    path = ("cases", where[0], "oncall", where[1])
    at = _time(doc, rel, name, (*path, "at"), check.get("at"))
    if isinstance(at, Problem):
        return at
    at = at or case_at
    if at is None:
        m = doc.value_mark(path)
        return Problem(
            rel,
            m.line,
            m.column,
            f"case '{name}': an on-call check needs a time: 'at' on the check or on the case "
            "(who is on call changes; 'now' would make the test flaky)",
            code="oncall-at",
        )
    return OnCallCheck(check["schedule"], at, check["person"])


def load_cases(root: str | Path) -> tuple[list[Case], list[Problem]]:
    """Every valid case under ``<root>/tests``, and every problem of the case files."""
    root = Path(root)
    cases: list[Case] = []
    problems: list[Problem] = []
    for path in case_files(root):
        found, bad = load_file(root, path)
        cases += found
        problems += bad
    return cases, problems
