"""Lint a valid config: findings that are allowed but almost surely wrong, located like errors.

Every finding states its severity (``Severity``): a warning fails ``lint`` and ``validate
--strict``, an info never fails. A finding that depends on the date is an info, and the date
is an argument (``now``), never read from the clock here: a config does not start failing CI
by itself on some calendar day, and ``lint --at`` can ask about any other day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from notifierd.config.model import Snapshot, TemplateVersion
from notifierd.config.problems import Problem, Severity
from notifierd.config.recipients import recipient_form, split_recipient
from notifierd.config.repository import config_test_files, discover
from notifierd.config.yamlpos import Document, Mark, parse

ROUTES = "routes.yaml"


def lint_snapshot(root: str | Path, snapshot: Snapshot, *, now: datetime) -> list[Problem]:
    """Lint ``snapshot`` as of ``now``, reading the files under ``root`` again for positions
    and for the templates its config tests name."""
    sources, _ = discover(Path(root))
    docs = {s.rel_path: parse(s.text) for s in sources}
    return lint(snapshot, docs, now=now, tested=templates_named_by_tests(Path(root)))


def lint(
    snapshot: Snapshot,
    docs: dict[str, Document],
    *,
    now: datetime,
    tested: Iterable[str] = (),
) -> list[Problem]:
    """Every lint finding of ``snapshot`` as of ``now``; ``docs`` (relative path -> document)
    locate them; ``tested``: the template references (``name`` or ``name@version``) that the
    config tests' requests name, which are in use as surely as a route's."""
    out: list[Problem] = []
    _unreachable_routes(snapshot, docs, out)
    _unused_channels(snapshot, docs, out)
    _unused_policies(snapshot, docs, out)
    _unused_templates(snapshot, docs, out, frozenset(tested))
    _ended_suppressions(snapshot, docs, out, now)
    _escalation_order(snapshot, docs, out)
    _open_allow_recipients(snapshot, docs, out)
    _unsigned_webhooks(snapshot, docs, out)
    _slack_display_names(snapshot, docs, out)
    out.sort(key=lambda p: (p.path, p.line, p.column, p.message))
    return out


def templates_named_by_tests(root: Path) -> set[str]:
    """The ``template`` of every config test request under ``root`` (unreadable files are
    ``notifierd test``'s to report; here they name nothing)."""
    named: set[str] = set()
    for path in config_test_files(root):
        try:
            data = parse(path.read_bytes().decode("utf-8-sig")).data
        except (OSError, UnicodeDecodeError):
            continue
        cases = data.get("cases") if isinstance(data, dict) else None
        for case in cases if isinstance(cases, list) else ():
            request = case.get("request") if isinstance(case, dict) else None
            template = request.get("template") if isinstance(request, dict) else None
            if isinstance(template, str):
                named.add(template)
    return named


def _open_allow_recipients(
    snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]
) -> None:
    # "*" is a legitimate, deliberate opt-out, but one a reviewer should see every time.
    for name, channel in snapshot.channels.items():
        for i, pattern in enumerate(channel.allow_recipients):
            if pattern == "*":
                _add(
                    out,
                    docs,
                    ROUTES,
                    ("channels", name, "allow_recipients", i),
                    f"channel '{name}' allows a request to name any recipient at all "
                    '(allow_recipients: "*"): narrow it to the domains, channels or number '
                    "prefixes producers need",
                    "open-recipients",
                    severity=Severity.WARNING,
                )


def _unsigned_webhooks(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    # Allowed (a receiver may check something else), but then anyone who learns the URL can
    # post requests the receiver cannot tell from ours.
    for name, channel in snapshot.channels.items():
        if channel.type == "webhook" and not channel.settings.get("secret"):
            _add(
                out,
                docs,
                ROUTES,
                ("channels", name),
                f"webhook channel '{name}' has no secret: its requests are sent unsigned "
                "(no X-Notifierd-Signature), so the receiver cannot tell them from forged ones; "
                "set secret: ${WEBHOOK_SECRET}",
                "unsigned-webhook",
                key=True,
                severity=Severity.WARNING,
            )


# What Slack's chat.postMessage accepts as a channel: a user (U…, W…) or conversation (C…, G…) id.
_SLACK_ID = re.compile(r"^[UWCG][A-Z0-9]{2,}$")


def _slack_display_names(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    # Slack answers channel_not_found for "@name": an `@` recipient must be an id, or a name the
    # config turns into one (a person, a schedule's handle).
    handles = {s.handle for s in snapshot.schedules.values() if s.handle}
    where: list[tuple[str, tuple[object, ...], str]] = []
    for i, route in enumerate(snapshot.routes):
        where += [
            (ROUTES, ("routes", i, "recipients", j), r) for j, r in enumerate(route.recipients)
        ]
    for pid, policy in snapshot.policies.items():
        for i, level in enumerate(policy.levels):
            where += [
                (f"policies/{pid}.yaml", ("levels", i, "recipients", j), r)
                for j, r in enumerate(level.recipients)
            ]
    for name, channel in snapshot.channels.items():
        where += [
            (ROUTES, ("channels", name, "default_recipients", j), r)
            for j, r in enumerate(channel.default_recipients)
        ]
    for schedule in snapshot.schedules.values():
        where += [(schedule.path, ("fallback", j), r) for j, r in enumerate(schedule.fallback)]
    for rel, path, recipient in where:
        prefix, address = split_recipient(recipient)
        named = snapshot.channels.get(prefix) if prefix else None
        slack = (
            recipient_form(address) == "slack"
            if prefix is None
            else prefix == "slack" or (named is not None and named.type == "slack")
        )
        name = address.removeprefix("@")
        if not slack or not address.startswith("@") or _SLACK_ID.match(name):
            continue
        if name in snapshot.people or name in handles:
            continue
        hint = (
            f" (schedule:{name} names the schedule '{name}')" if name in snapshot.schedules else ""
        )
        _add(
            out,
            docs,
            rel,
            path,
            f"Slack recipient '{recipient}' is a display name, and Slack cannot post to one (it "
            f"answers channel_not_found){hint}: write the member's Slack id (@U…), a channel "
            "(#name, or its id as slack:C…), a person from people:, or a schedule's handle",
            "slack-display-name",
            severity=Severity.WARNING,
        )


def _mark(docs: dict[str, Document], rel: str, path: tuple[object, ...], key: bool = False) -> Mark:
    doc = docs.get(rel)
    if doc is None:
        return Mark(1, 1)
    return doc.key_mark(path) if key else doc.value_mark(path)


def _add(
    out: list[Problem],
    docs: dict[str, Document],
    rel: str,
    path: tuple[object, ...],
    message: str,
    code: str,
    *,
    severity: Severity,
    key: bool = False,
) -> None:
    mark = _mark(docs, rel, path, key)
    out.append(Problem(rel, mark.line, mark.column, message, severity, code))


def _unreachable_routes(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    # Sound only: an earlier final route whose matchers are a subset of this route's matches
    # every request this one would (a matcher-less route is the empty subset).
    for i, route in enumerate(snapshot.routes):
        mine = set(route.matchers)
        for j, earlier in enumerate(snapshot.routes[:i]):
            if earlier.continue_ or not set(earlier.matchers) <= mine:
                continue
            line = _mark(docs, ROUTES, ("routes", j, "name")).line
            why = (
                "matches every request"
                if not earlier.matchers
                else "has only matchers this route also has"
            )
            _add(
                out,
                docs,
                ROUTES,
                ("routes", i, "name"),
                f"route '{route.name}' can never match: route '{earlier.name}' (line {line}) "
                f"{why} and does not continue; move this route above it or remove it",
                "unreachable-route",
                severity=Severity.WARNING,
            )
            break


def _unused_channels(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    used = {c for r in snapshot.routes for c in r.channels}
    used |= {c for p in snapshot.policies.values() for lv in p.levels for c in lv.channels}
    used |= {c for channel in snapshot.channels.values() for c in channel.fallback}
    limited = {rl.channel for rl in snapshot.rate_limits if rl.channel}
    for name in snapshot.channels:
        if name in used:
            continue
        extra = "; only a rate limit names it, which delivers nothing" if name in limited else ""
        _add(
            out,
            docs,
            ROUTES,
            ("channels", name),
            f"channel '{name}' is used by no route and no escalation level{extra}",
            "unused-channel",
            key=True,
            severity=Severity.WARNING,
        )


def _unused_policies(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    used = {r.escalation for r in snapshot.routes if r.escalation}
    for pid in snapshot.policies:
        if pid not in used:
            _add(
                out,
                docs,
                f"policies/{pid}.yaml",
                ("name",),
                f"escalation policy '{pid}' is used by no route (routes name it in 'escalation:')",
                "unused-policy",
                severity=Severity.WARNING,
            )


def _named_by_matcher(snapshot: Snapshot, tv: TemplateVersion, pinned: bool) -> bool:
    """A positive ``template`` matcher on a route or suppression that accepts this template."""
    matchers = [m for r in snapshot.routes for m in r.matchers]
    matchers += [m for s in snapshot.suppressions for m in s.matchers]
    names = (tv.ref,) if pinned else (tv.name, tv.ref)
    return any(
        m.name == "template" and not m.negative and any(m.matches_value(n) for n in names)
        for m in matchers
    )


def _unused_templates(
    snapshot: Snapshot, docs: dict[str, Document], out: list[Problem], tested: frozenset[str]
) -> None:
    # An info: producers may name any template in a request. A config test whose request names
    # it is the repository's own record that they do, and it checks the rendering too.
    refs = [r.template for r in snapshot.routes if r.template]
    for name, versions in snapshot.templates.items():
        newest = versions[-1]
        named = any(ref.name == name for ref in refs) or any(
            ref.partition("@")[0] == name for ref in tested
        )
        if not named and not _named_by_matcher(snapshot, newest, pinned=False):
            _add(
                out,
                docs,
                newest.path,
                (),
                f"template '{name}' is named by no route and no config test: if producers "
                "name it in requests, add a config test (tests/*.yaml) whose request does",
                "unused-template",
                severity=Severity.INFO,
            )
            continue
        pins = {ref.version for ref in refs if ref.name == name and ref.version}
        for tv in versions[:-1]:
            if tv.version in pins or tv.ref in tested or _named_by_matcher(snapshot, tv, True):
                continue
            _add(
                out,
                docs,
                tv.path,
                (),
                f"template version '{tv.ref}' is older than '{newest.ref}' and no route or "
                "config test pins it: delete the file, or if producers pin it in requests, "
                "add a config test (tests/*.yaml) whose request does",
                "unused-template-version",
                severity=Severity.INFO,
            )


def _ended_suppressions(
    snapshot: Snapshot, docs: dict[str, Document], out: list[Problem], now: datetime
) -> None:
    for i, s in enumerate(snapshot.suppressions):
        if s.end is not None and s.end <= now:
            _add(
                out,
                docs,
                ROUTES,
                ("suppressions", i, "end"),
                f"suppression '{s.name}' ended at {s.end.isoformat()} and suppresses nothing "
                "any more; remove it",
                "ended-suppression",
                # Depends on the date: a config must not start failing CI on a calendar day.
                severity=Severity.INFO,
            )


def _escalation_order(snapshot: Snapshot, docs: dict[str, Document], out: list[Problem]) -> None:
    for pid, policy in snapshot.policies.items():
        for i in range(1, len(policy.levels)):
            before, level = policy.levels[i - 1], policy.levels[i]
            if level.after <= before.after:
                _add(
                    out,
                    docs,
                    f"policies/{pid}.yaml",
                    ("levels", i, "after"),
                    f"level {i + 1} starts after {_secs(level.after)}, not later than level {i} "
                    f"({_secs(before.after)}); 'after' counts from the alert's start, so "
                    "levels must be strictly increasing",
                    "escalation-order",
                    severity=Severity.WARNING,
                )


def _secs(seconds: float) -> str:
    return f"{seconds:g}s"
