"""Whole validation of a config repository: config's own checks plus every template version
compiled and rendered, as ``notifierd validate`` reports them; lint on top of a valid one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notifierd.config import loader
from notifierd.config.checks import Parsed
from notifierd.config.lint import lint_snapshot
from notifierd.config.loader import ValidationResult
from notifierd.config.model import Snapshot, TemplateVersion
from notifierd.config.problems import ConfigInvalid, Problem
from notifierd.forked import Forked, spare_cores
from notifierd.schedules.lint import lint_schedules
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.validate import check_template

# Below this many template versions a fork (~5-10 ms) costs more than half the checks save.
_FORK_FROM = 40


@dataclass
class Validation(ValidationResult):
    """Validate's result, with the templates compiled while checking them (by ref), so the
    daemon does not compile them a second time."""

    compiled: dict[str, CompiledTemplate] = field(default_factory=dict)


def validate_repository(
    root: str | Path,
    *,
    with_git: bool = True,
    trust_cache: bool = False,
    remember: bool = False,
    fork: bool = False,
) -> Validation:
    """Validate everything under ``root``; never raises for bad input, reports all problems.

    ``trust_cache``: skip compiling and rendering the templates when these exact files already
    passed validate (templates then compile on first use); ``remember``: record a clean pass.
    ``fork`` (one-shot CLI commands only, never the daemon): check half of the template
    versions in a forked child when there is a spare processor; the result then holds the
    compiled templates of the other half only.
    """
    compiled: dict[str, CompiledTemplate] = {}

    def check_here(versions: list[tuple[TemplateVersion, Parsed]]) -> list[Problem]:
        problems: list[Problem] = []
        for tv, parsed in versions:
            found = check_template(tv, parsed, problems)
            if found is not None:
                compiled[tv.ref] = found
        return problems

    def check(versions: list[tuple[TemplateVersion, Parsed]], problems: list[Problem]) -> None:
        if not (fork and len(versions) >= _FORK_FROM and spare_cores()):
            problems += check_here(versions)
            return
        half = len(versions) // 2
        child = Forked(lambda: check_here(versions[half:]))
        problems += check_here(versions[:half])
        found = child.result()
        problems += check_here(versions[half:]) if found is None else found

    result = loader.validate_repository(
        root, with_git=with_git, trust_cache=trust_cache, remember=remember, check_template=check
    )
    return Validation(result.problems, result.snapshot, result.files, compiled)


def load_valid(root: str | Path, *, with_git: bool = True) -> tuple[Snapshot, Validation]:
    """The snapshot of a valid repository and its validation; raises :class:`ConfigInvalid`
    with every problem otherwise."""
    result = validate_repository(root, with_git=with_git)
    if result.snapshot is None:
        raise ConfigInvalid(result.problems)
    return result.snapshot, result


def load_snapshot(root: str | Path, *, with_git: bool = True) -> Snapshot:
    """The snapshot of a valid repository; raises :class:`ConfigInvalid` with every problem."""
    return load_valid(root, with_git=with_git)[0]


@dataclass
class LintResult:
    """Validate's result, and the lint findings when the config was valid."""

    validation: ValidationResult
    findings: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """What lint reports: validate's errors when the config is invalid, else validate's
        warnings and infos followed by lint's findings."""
        return [*self.validation.problems, *self.findings]


def lint_repository(root: str | Path, *, now: datetime, with_git: bool = False) -> LintResult:
    """Validate ``root``; when valid, lint it as of ``now``: which fixed windows have ended and
    which schedule gaps and overrides lie ahead."""
    root = Path(root)
    validation = validate_repository(root, with_git=with_git)
    if validation.snapshot is None:
        return LintResult(validation)
    findings = lint_snapshot(root, validation.snapshot, now=now)
    findings += lint_schedules(root, validation.snapshot, now)
    findings.sort(key=lambda p: (p.path, p.line, p.column, p.message))
    return LintResult(validation, findings)
