"""Config problems as values: where (file, line, column), what, and how bad."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One finding; ``line`` and ``column`` are 1-based, ``path`` relative to the config root."""

    path: str
    line: int
    column: int
    message: str
    severity: str = "error"  # or "warning"
    code: str = ""  # a short stable identifier, e.g. "unknown-channel"

    def __str__(self) -> str:
        return self.located(self.path)

    def located(self, shown_path: str) -> str:
        """``path:line:col: message`` with the file named as the caller shows paths (the CLI:
        relative to the working directory; logs: relative to the config root)."""
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{shown_path}:{self.line}:{self.column}: {tag}{self.message}"


class ConfigInvalid(Exception):
    """A config repository that has errors; ``problems`` holds every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(
            f"{len(errors)} problem(s) in the config; first: {errors[0] if errors else '-'}"
        )
