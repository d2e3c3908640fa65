"""Config problems as values: where (file, line, column), what, and how bad."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is, which decides which commands fail on it (README, exit codes).

    ``error``: the config cannot run; every command fails. ``warning``: it runs but is almost
    surely wrong; ``lint`` and ``validate --strict`` fail. ``info``: worth a look and never a
    failure — also every finding that depends on the date, so that a config does not start
    failing CI by itself on some calendar day.
    """

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One finding; ``line`` and ``column`` are 1-based, ``path`` relative to the config root."""

    path: str
    line: int
    column: int
    message: str
    severity: Severity = Severity.ERROR
    code: str = ""  # a short stable identifier, e.g. "unknown-channel"

    def __str__(self) -> str:
        return self.located(self.path)

    def located(self, shown_path: str) -> str:
        """``path:line:col: message`` with the file named as the caller shows paths (the CLI:
        relative to the working directory; logs: relative to the config root)."""
        tag = "" if self.severity == Severity.ERROR else f"{self.severity}: "
        return f"{shown_path}:{self.line}:{self.column}: {tag}{self.message}"


def count(problems: Iterable[Problem], severity: Severity) -> int:
    return sum(p.severity == severity for p in problems)


def fails(problems: Iterable[Problem], *, strict: bool) -> bool:
    """Whether ``problems`` fail a command: an error always, a warning when ``strict`` (``lint``
    and ``validate --strict``), an info never."""
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return any(p.severity in failing for p in problems)


class ConfigInvalid(Exception):
    """A config repository that has errors; ``problems`` holds every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == Severity.ERROR]
        super().__init__(
            f"{len(errors)} problem(s) in the config; first: {errors[0] if errors else '-'}"
        )
