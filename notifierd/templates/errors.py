"""Template problems as values and the errors that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# A key path inside the template file, e.g. ("text",) or ("slack", 1, "text", "text").
Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One finding; ``line`` is 1-based within the piece at ``location`` (None: the whole piece)."""

    location: Location
    line: int | None
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.location) or "<template>"
        line = f":{self.line}" if self.line else ""
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}{line}: {tag}{self.message}"


class TemplateError(Exception):
    """Base class of every error this package raises."""


class TemplateNotFound(TemplateError):
    """A template reference that names no known template or version."""


class TemplateCompileError(TemplateError):
    """A template version that does not compile; ``problems`` holds every problem found."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "-"
        super().__init__(f"template does not compile: {first}")


class TemplateContextError(TemplateError):
    """A context that does not satisfy the template's ``variables`` schema."""

    def __init__(self, messages: Sequence[str], problems: Sequence[TemplateProblem] = ()) -> None:
        self.messages = list(messages)
        self.problems = list(problems)  # same findings, with their path inside the context
        super().__init__("; ".join(self.messages))


class TemplateRenderError(TemplateError):
    """A failure while rendering one piece: an undefined variable, a bad filter argument, ..."""

    def __init__(self, message: str, location: Location = (), line: int | None = None) -> None:
        self.message = message
        self.location = location
        self.line = line
        where = ".".join(str(part) for part in location)
        prefix = f"{where}{f', line {line}' if line else ''}: " if where else ""
        super().__init__(f"{prefix}{message}")

    def problem(self, severity: str = "error") -> TemplateProblem:
        return TemplateProblem(self.location, self.line, self.message, severity)


class TemplateSecurityError(TemplateRenderError):
    """The template tried to leave the sandbox or to exhaust memory or CPU."""
