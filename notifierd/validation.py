"""Whole validation of a config repository: config's own checks plus every template version
compiled and rendered, as ``notifierd validate`` reports them; lint on top of a valid one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from notifierd.config import loader
from notifierd.config.checks import Parsed
from notifierd.config.lint import lint_snapshot
from notifierd.config.loader import TemplateFiles, ValidationResult
from notifierd.config.model import Snapshot, TemplateVersion
from notifierd.config.problems import ConfigInvalid, Problem
from notifierd.config.repository import SourceFile
from notifierd.forked import Forked, spare_cores
from notifierd.schedules.lint import lint_schedules
from notifierd.templates.compiled import CompiledTemplate
from notifierd.templates.validate import check_template

# Below this many template files a fork (~5-10 ms) costs more than half the checks save.
_FORK_FROM = 40
# The child's share of the template files. The parent reads the other files too (routes.yaml
# and the policies of the benchmark repository: about a fifth of the CPU the template files
# take), so the two finish together when the child takes about three fifths.
_CHILD_SHARE = 0.6


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
    ``fork`` (single-threaded callers only: the CLI's one-shot commands and the daemon's
    validating child, never a worker's own process): read and check part of the
    template files in a forked child when a processor is idle (:func:`read_part_forked`); the
    result then holds the compiled templates of the other part only.
    """
    compiled: dict[str, CompiledTemplate] = {}

    def check(tv: TemplateVersion, parsed: Parsed, problems: list[Problem]) -> None:
        found = check_template(tv, parsed, problems)
        if found is not None:
            compiled[tv.ref] = found

    result = loader.validate_repository(
        root,
        with_git=with_git,
        trust_cache=trust_cache,
        remember=remember,
        check_template=check,
        reading=read_part_forked if fork else loader.read_here,
    )
    return Validation(result.problems, result.snapshot, result.files, compiled)


def read_part_forked(
    sources: list[SourceFile], read: Callable[[list[SourceFile]], TemplateFiles]
) -> Callable[[], TemplateFiles]:
    """The last template files (:data:`_CHILD_SHARE` of them) read and checked in a forked
    child while this process reads the other files and then the first template files; all here
    without an idle processor or with few template files. A child that fails leaves its part
    to this process."""
    if len(sources) < _FORK_FROM or not spare_cores():
        return loader.read_here(sources, read)
    split = round(len(sources) * (1 - _CHILD_SHARE))
    try:
        child = Forked(lambda: read(sources[split:]))
    except OSError:  # no fork now (a pids limit, memory): all of it here
        return loader.read_here(sources, read)

    def finish() -> TemplateFiles:
        mine = read(sources[:split])
        theirs = child.result()
        return mine.then(read(sources[split:]) if theirs is None else theirs)

    return finish


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
