"""Load a config repository: parse, validate whole, and build one immutable snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from notifierd.config import cache, checks
from notifierd.config.build import (
    build_calendar_feed,
    build_heartbeat,
    build_person,
    build_policy,
    build_producer,
    build_rate_limit,
    build_route,
    build_schedule,
    build_settings,
    build_suppression,
    build_template,
)
from notifierd.config.checks import Checker, Parsed
from notifierd.config.compiled_schemas import certainly_valid
from notifierd.config.identity import content_hash, identify
from notifierd.config.model import Snapshot, TemplateVersion, version_key
from notifierd.config.problems import Problem
from notifierd.config.repository import SourceFile, discover
from notifierd.config.schedule_checks import check_schedules, schedule_reach
from notifierd.config.schema_errors import schema_problems
from notifierd.config.schemas import validator
from notifierd.config.yamlpos import parse

_WHAT = {
    "routes": "routes.yaml",
    "policy": "the policy",
    "schedule": "the schedule",
    "template": "the template",
}


class TemplateCheck(Protocol):
    """Checks one template version beyond its schema (compile it, render its examples) and
    appends what it finds to ``problems``. Templates are a layer above config, so the caller
    that has them passes this in; without it only the config's own syntax is checked."""

    def __call__(self, tv: TemplateVersion, parsed: Parsed, problems: list[Problem]) -> None: ...


@dataclass
class TemplateFiles:
    """What reading template files found: a version for each file whose schema holds (in the
    order of the files), and the problems of each phase."""

    versions: list[TemplateVersion] = field(default_factory=list)
    syntax: list[Problem] = field(default_factory=list)
    schema: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the template checks'

    def then(self, other: TemplateFiles) -> TemplateFiles:
        """These files' findings followed by ``other``'s (files that came after them)."""
        return TemplateFiles(
            self.versions + other.versions,
            self.syntax + other.syntax,
            self.schema + other.schema,
            self.problems + other.problems,
        )


def read_templates(sources: list[SourceFile], check: TemplateCheck | None) -> TemplateFiles:
    """Parse template files, check each against its schema, build a version of each whose
    schema holds and, with ``check``, check it beyond (compile, render its examples)."""
    found = TemplateFiles()
    for source in sources:
        pf = _parse_file(source, found.syntax, found.schema)
        if pf.schema_ok:
            tv = build_template(source.name, source.version, pf.data, source.rel_path)
            if check is not None:
                check(tv, pf, found.problems)
            found.versions.append(tv)
    return found


class TemplateReading(Protocol):
    """Starts reading template files with ``read`` (all here, or part of them elsewhere) and
    returns the function that finishes it; the other files are read in between."""

    def __call__(
        self, sources: list[SourceFile], read: Callable[[list[SourceFile]], TemplateFiles]
    ) -> Callable[[], TemplateFiles]: ...


def read_here(
    sources: list[SourceFile], read: Callable[[list[SourceFile]], TemplateFiles]
) -> Callable[[], TemplateFiles]:
    """Every template file in this process, when the rest are read."""
    return lambda: read(sources)


@dataclass
class ValidationResult:
    """Every problem found, and the snapshot when there were no errors."""

    problems: list[Problem]
    snapshot: Snapshot | None = None
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def _parse_file(source: SourceFile, syntax: list[Problem], schema: list[Problem]) -> Parsed:
    """Parse one file; what keeps it from being read goes to ``syntax``, what its schema
    refuses to ``schema``."""
    doc = parse(source.text)
    for issue in doc.issues:
        syntax.append(
            Problem(source.rel_path, issue.line, issue.column, issue.message, code="yaml")
        )
    data = doc.data
    syntax_ok = not any(i.message.startswith("YAML") for i in doc.issues)
    if syntax_ok and data is None:
        schema.append(
            Problem(
                source.rel_path,
                1,
                1,
                f"file is empty: {_WHAT[source.kind]} needs at least its required keys",
                code="empty",
            )
        )
        return Parsed(source.rel_path, doc, None, False, source.text)
    if not syntax_ok:
        return Parsed(source.rel_path, doc, None, False, source.text)
    found = (
        []
        if certainly_valid(source.kind, data)
        else schema_problems(data, validator(source.kind), doc, source.rel_path, _WHAT[source.kind])
    )
    schema.extend(found)
    return Parsed(source.rel_path, doc, data, not found and not doc.issues, source.text)


def reading_order(*phases: list[Problem]) -> list[Problem]:
    """Problems in the order a person fixes them: each phase after the one before it (files
    that cannot be read, then schema problems, then cross-references and the other checks),
    and by path, line and column within a phase — so a syntax error comes first, not after
    what it caused."""
    return [p for phase in phases for p in sorted(phase, key=_position)]


def _position(p: Problem) -> tuple[str, int, int, str]:
    return p.path, p.line, p.column, p.message


def validate_repository(
    root: str | Path,
    *,
    with_git: bool = True,
    trust_cache: bool = False,
    remember: bool = False,
    check_template: TemplateCheck | None = None,
    reading: TemplateReading = read_here,
) -> ValidationResult:
    """Validate everything under ``root``; never raises for bad input, reports all problems.

    ``check_template``: the checks of each template version beyond its schema (none without
    it); ``trust_cache``: skip them when these exact files already passed validate (templates
    then compile on first use); ``remember``: record a clean pass that ran them; ``reading``:
    where the template files are read and checked.
    """
    root = Path(root)
    sources, syntax = discover(root)
    schema: list[Problem] = []
    problems: list[Problem] = []  # the checks that need the files read: references and more
    content = content_hash([(s.rel_path, s.raw) for s in sources])
    skip_templates = check_template is None or (
        trust_cache and not syntax and cache.known_valid(content)
    )
    check = None if skip_templates else check_template
    finish_templates = reading(
        [s for s in sources if s.kind == "template"], partial(read_templates, check=check)
    )
    parsed = {
        s.rel_path: (s, _parse_file(s, syntax, schema)) for s in sources if s.kind != "template"
    }

    routes_pair = next(((s, p) for s, p in parsed.values() if s.kind == "routes"), None)
    routes_data: Any = routes_pair[1].data if routes_pair else None
    if not isinstance(routes_data, dict):
        routes_data = {}
    # None when routes.yaml is missing, did not parse, or its channels are not a mapping: a
    # reference to a channel cannot be judged then, and calling every one unknown would bury
    # the one problem that matters under its follow-ons.
    channel_names = (
        [str(n) for n in routes_data["channels"]]
        if isinstance(routes_data.get("channels"), dict)
        else None
    )
    channels = checks.channels_of(routes_data)
    people = checks.people_of(routes_data)
    policy_ids = [s.name for s in sources if s.kind == "policy"]

    read = finish_templates()
    syntax += read.syntax
    schema += read.schema
    problems += read.problems
    templates = read.versions
    template_versions = checks.check_template_files(templates)
    # A template file that failed its schema still exists: do not call references to it unknown.
    for source in sources:
        if source.kind == "template" and source.version not in template_versions.get(
            source.name, []
        ):
            template_versions.setdefault(source.name, []).append(source.version)

    schedules = {s.name: pf for s, pf in parsed.values() if s.kind == "schedule"}
    reach = schedule_reach(schedules, people)
    if routes_pair is not None and isinstance(routes_pair[1].data, dict):
        _check_routes_file(
            routes_pair[1],
            problems,
            channels,
            channel_names,
            people,
            policy_ids,
            template_versions,
            reach,
        )
    for source, pf in parsed.values():
        if source.kind == "policy" and isinstance(pf.data, dict):
            _check_policy(pf, problems, channels, channel_names, people, reach)
    # Without a readable routes.yaml every member would look unknown: say nothing of people.
    routes_read = routes_pair is not None and isinstance(routes_pair[1].data, dict)
    check_schedules(
        schedules, problems, people, channels, channel_names or [], routes_read=routes_read
    )
    if routes_read and routes_pair is not None:
        checks.check_calendar_feeds(Checker(routes_pair[1], problems), list(schedules))

    result = ValidationResult(
        reading_order(syntax, schema, problems), files=[s.rel_path for s in sources]
    )
    if not result.errors and routes_pair is not None:
        result.snapshot = _build_snapshot(root, sources, parsed, templates, with_git)
        if remember and not skip_templates:
            cache.remember_valid(content)
    return result


def _check_routes_file(
    pf: Parsed,
    problems: list[Problem],
    channels: dict[str, Any],
    channel_names: list[str] | None,
    people: dict[str, set[str]],
    policy_ids: list[str],
    template_versions: dict[str, list[str]],
    schedules: dict[str, set[str]],
) -> None:
    check = Checker(pf, problems)
    data = pf.data
    channels_data = data.get("channels") if isinstance(data.get("channels"), dict) else {}
    checks.check_secrets(check, channels_data)
    checks.check_channel_settings(check, channels_data)
    checks.check_default_recipients(check, channels)
    checks.check_allow_recipients(check, channels)
    checks.check_fallbacks(check, channels_data)
    checks.check_type_defaults(check, channels_data)
    checks.check_duplicate_names(check, "routes", "route")
    checks.check_duplicate_names(check, "suppressions", "suppression")
    for i, route in checks._items(data, "routes"):
        checks.check_matchers(check, ("routes", i, "matchers"), route.get("matchers"))
        selected = checks.check_channel_refs(
            check, ("routes", i, "channels"), route.get("channels"), channels, channel_names
        )
        named = route.get("channels")
        # Else an unknown channel (or a malformed list: the schema says so) is the problem.
        if len(selected) == (len(named) if isinstance(named, list) else 0):
            checks.check_recipients_fit(
                check,
                ("routes", i, "recipients"),
                route.get("recipients"),
                selected,
                f"route '{route.get('name', i)}'",
                people,
                schedules,
            )
        if "escalation" in route:
            checks.check_policy_ref(
                check, ("routes", i, "escalation"), route["escalation"], policy_ids
            )
        if "template" in route:
            checks.check_template_ref(
                check, ("routes", i, "template"), route["template"], template_versions
            )
    checks.check_rate_limits(check, channels, channel_names)
    checks.check_suppressions(check)
    checks.check_people(check)
    checks.check_principals(check)
    checks.check_heartbeats(check)
    checks.check_runtime_bounds(check)


def _check_policy(
    pf: Parsed,
    problems: list[Problem],
    channels: dict[str, Any],
    channel_names: list[str] | None,
    people: dict[str, set[str]],
    schedules: dict[str, set[str]],
) -> None:
    check = Checker(pf, problems)
    for i, level in checks._items(pf.data, "levels"):
        selected = checks.check_channel_refs(
            check, ("levels", i, "channels"), level.get("channels"), channels, channel_names
        )
        if len(selected) == len(level.get("channels") or ()):
            checks.check_recipients_fit(
                check,
                ("levels", i, "recipients"),
                level.get("recipients"),
                selected,
                f"level {i + 1}",
                people,
                schedules,
            )


def _build_snapshot(
    root: Path,
    sources: list[SourceFile],
    parsed: dict[str, tuple[SourceFile, Parsed]],
    templates: list[TemplateVersion],
    with_git: bool,
) -> Snapshot:
    routes_data = next(p.data for s, p in parsed.values() if s.kind == "routes")
    by_name: dict[str, list[TemplateVersion]] = {}
    for tv in templates:
        by_name.setdefault(tv.name, []).append(tv)
    return Snapshot(
        root=root.resolve(),
        identity=identify(root, [(s.rel_path, s.raw) for s in sources], with_git=with_git),
        settings=build_settings(routes_data.get("settings")),
        channels=MappingProxyType({n: c for n, c in checks.channels_of(routes_data).items()}),
        routes=tuple(build_route(r) for r in routes_data["routes"]),
        rate_limits=tuple(build_rate_limit(r) for r in routes_data.get("rate_limits") or ()),
        suppressions=tuple(build_suppression(s) for s in routes_data.get("suppressions") or ()),
        policies=MappingProxyType(
            {s.name: build_policy(s.name, p.data) for s, p in parsed.values() if s.kind == "policy"}
        ),
        templates=MappingProxyType(
            {
                name: tuple(sorted(versions, key=lambda t: version_key(t.version)))
                for name, versions in by_name.items()
            }
        ),
        people=MappingProxyType(
            {name: build_person(name, p) for name, p in (routes_data.get("people") or {}).items()}
        ),
        producers=MappingProxyType(
            {pid: build_producer(pid, p) for pid, p in (routes_data.get("producers") or {}).items()}
        ),
        heartbeats=MappingProxyType(
            {h["name"]: build_heartbeat(h) for h in routes_data.get("heartbeats") or ()}
        ),
        schedules=MappingProxyType(
            {
                s.name: build_schedule(s.name, p.data, s.rel_path)
                for s, p in parsed.values()
                if s.kind == "schedule"
            }
        ),
        calendar_feeds=MappingProxyType(
            {
                name: build_calendar_feed(name, feed)
                for name, feed in (routes_data.get("calendar_feeds") or {}).items()
            }
        ),
    )
