"""Semantic checks beyond the schemas: references, names, matchers, windows, recipients, secrets."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifierd.config.build import build_channel, parse_timestamp
from notifierd.config.channel_settings import settings_spec
from notifierd.config.cron import parse_cron
from notifierd.config.matchers import MatcherError, parse_matcher
from notifierd.config.model import (
    ANONYMOUS_PRODUCER,
    CHANNEL_TYPES,
    TARGETED_TYPES,
    Channel,
    TemplateVersion,
)
from notifierd.config.problems import Problem, Severity
from notifierd.config.recipient_patterns import PatternError, parse_pattern
from notifierd.config.recipients import fits, recipient_form, unfit_recipients
from notifierd.config.schema_errors import did_you_mean
from notifierd.config.values import ENV_REF_ONLY, parse_duration
from notifierd.config.yamlpos import Document, Mark

# Credential shapes that must never sit in any setting, whatever its key.
_LITERAL_SECRET = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{8,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"
    r"|hooks\.slack\.com/services/|webhook\.office\.com/webhookb2/|://[^/\s:@]+:[^/\s@]+@"
)


@dataclass
class Parsed:
    """One parsed file: where it is, its positions and its data."""

    rel_path: str
    doc: Document
    data: Any
    schema_ok: bool
    text: str = ""

    @property
    def doc_text_lines(self) -> list[str]:
        return self.text.splitlines()


class Checker:
    """Collects problems for one file, located through its document's marks."""

    def __init__(self, parsed: Parsed, problems: list[Problem]) -> None:
        self.parsed = parsed
        self.problems = problems

    def at(
        self,
        path: tuple[Any, ...],
        message: str,
        code: str,
        *,
        key: bool = False,
        offset: int = 0,
        severity: Severity = Severity.ERROR,
    ) -> None:
        doc = self.parsed.doc
        mark = doc.key_mark(path) if key else doc.value_mark(path)
        self.problems.append(
            Problem(self.parsed.rel_path, mark.line, mark.column + offset, message, severity, code)
        )


def _items(data: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _quote_offset(mark: Mark) -> int:
    return 1 if mark.style in ('"', "'") else 0


def check_matchers(check: Checker, path: tuple[Any, ...], matchers: Any) -> None:
    if not isinstance(matchers, list):
        return
    for i, text in enumerate(matchers):
        if not isinstance(text, str):
            continue
        try:
            parse_matcher(text)
        except MatcherError as exc:
            mark = check.parsed.doc.value_mark((*path, i))
            check.at((*path, i), str(exc), "bad-matcher", offset=_quote_offset(mark) + exc.column)


def channels_of(routes_data: Any) -> dict[str, Channel]:
    """Channels whose entry is well-formed enough to build (others are schema problems already)."""
    out: dict[str, Channel] = {}
    raw = routes_data.get("channels") if isinstance(routes_data, dict) else None
    if not isinstance(raw, dict):
        return out
    for name, data in raw.items():
        if isinstance(data, dict) and data.get("type") in CHANNEL_TYPES:
            out[str(name)] = build_channel(str(name), data)
    return out


def people_of(routes_data: Any) -> dict[str, set[str]]:
    """Person name -> the channel types their contacts can reach (from well-formed entries)."""
    raw = routes_data.get("people") if isinstance(routes_data, dict) else None
    if not isinstance(raw, dict):
        return {}
    out: dict[str, set[str]] = {}
    for name, person in raw.items():
        contacts = person.get("contacts") if isinstance(person, dict) else None
        if not isinstance(contacts, list):
            contacts = []
        out[str(name)] = {
            kind
            for contact in contacts
            if isinstance(contact, dict)
            for kind in ("slack", "email", "sms")
            if kind in contact
        }
    return out


def check_people(check: Checker) -> None:
    """Each contact's address has the form of its type, as a recipient would need."""
    people = check.parsed.data.get("people")
    if not isinstance(people, dict):
        return
    for name, person in people.items():
        contacts = person.get("contacts") if isinstance(person, dict) else None
        for i, contact in enumerate(contacts if isinstance(contacts, list) else ()):
            if not isinstance(contact, dict):
                continue
            for kind in ("slack", "email", "sms"):
                address = contact.get(kind)
                if isinstance(address, str) and recipient_form(address) != kind:
                    check.at(
                        ("people", name, "contacts", i, kind),
                        f"{kind} contact '{address}' of person '{name}' is not a {kind} "
                        f"address{_recipient_hint(kind)}",
                        "unfit-recipient",
                    )


def check_secrets(check: Checker, channels_data: Mapping[str, Any]) -> None:
    for name, data in channels_data.items():
        if not isinstance(data, dict):
            continue
        secret_keys = settings_spec(str(data.get("type"))).secrets
        for key, value in data.items():
            if not isinstance(value, str):
                continue
            path = ("channels", name, key)
            if key in secret_keys and not ENV_REF_ONLY.match(value):
                check.at(
                    path,
                    f"secret '{key}' of channel '{name}' is written as a literal: use an "
                    f"environment reference such as ${{{secret_keys[key]}}} and set that variable "
                    "where the daemon runs",
                    "literal-secret",
                )
            elif key not in secret_keys and _LITERAL_SECRET.search(value):
                check.at(
                    path,
                    f"'{key}' of channel '{name}' looks like it contains a credential: move "
                    "it into an environment variable and write ${NAME} here",
                    "literal-secret",
                )
        headers = data.get("headers")
        if isinstance(headers, dict):
            for header, value in headers.items():
                sensitive = header.lower() in (
                    "authorization",
                    "x-api-key",
                    "api-key",
                    "x-auth-token",
                )
                if isinstance(value, str) and sensitive and "${" not in value:
                    check.at(
                        ("channels", name, "headers", header),
                        f"header '{header}' of channel '{name}' holds a literal credential: "
                        "use an environment reference such as 'Bearer ${AUDIT_TOKEN}'",
                        "literal-secret",
                    )


def check_channel_settings(check: Checker, channels_data: Mapping[str, Any]) -> None:
    for name, data in channels_data.items():
        if not isinstance(data, dict) or data.get("type") != "email":
            continue
        transport = data.get("transport", "smtp")
        if transport == "smtp" and "host" not in data:
            check.at(
                ("channels", name),
                f"e-mail channel '{name}' uses SMTP but sets no 'host' "
                "(add host: ${SMTP_HOST}, or transport: sendgrid with api_key)",
                "missing-setting",
            )
        if transport == "sendgrid" and "api_key" not in data:
            check.at(
                ("channels", name),
                f"e-mail channel '{name}' uses SendGrid but sets no "
                "'api_key' (add api_key: ${SENDGRID_API_KEY})",
                "missing-setting",
            )
        if data.get("starttls") and data.get("use_tls"):
            check.at(
                ("channels", name, "use_tls"),
                "use either starttls or use_tls (implicit TLS), not both",
                "conflict",
            )


def check_default_recipients(check: Checker, channels: Mapping[str, Channel]) -> None:
    for name, channel in channels.items():
        if channel.targeted and channel.default_recipients:
            check.at(
                ("channels", name, "default_recipients"),
                f"{channel.type} channel '{name}' delivers to its configured target; "
                "default_recipients have no effect here, remove them",
                "no-effect",
                severity=Severity.WARNING,
            )
            continue
        for i, recipient in enumerate(channel.default_recipients):
            if fits(channel, recipient) is None:
                check.at(
                    ("channels", name, "default_recipients", i),
                    f"default recipient '{recipient}' does not fit {channel.type} channel "
                    f"'{name}'{_recipient_hint(channel.type)}",
                    "unfit-recipient",
                )


def check_allow_recipients(check: Checker, channels: Mapping[str, Channel]) -> None:
    """Each ``allow_recipients`` pattern has the syntax of its channel's type."""
    for name, channel in channels.items():
        if channel.targeted and channel.allow_recipients:
            check.at(
                ("channels", name, "allow_recipients"),
                f"{channel.type} channel '{name}' delivers to its configured target and never "
                "to a request's recipients, so allow_recipients has no meaning here: remove it",
                "no-effect",
                key=True,
            )
            continue
        for i, text in enumerate(channel.allow_recipients):
            if not isinstance(text, str):
                continue  # the schema reports it
            try:
                parse_pattern(channel.type, text)
            except PatternError as exc:
                check.at(
                    ("channels", name, "allow_recipients", i),
                    f"{exc} (channel '{name}')",
                    "bad-recipient-pattern",
                )


def check_type_defaults(check: Checker, channels_data: Mapping[str, Any]) -> None:
    """At most one channel per type says ``default: true``: a request naming the type must
    land on one channel, never a guess between two."""
    first: dict[str, str] = {}
    for name, data in channels_data.items():
        if not isinstance(data, dict) or data.get("default") is not True:
            continue
        kind = data.get("type")
        if not isinstance(kind, str):
            continue  # the schema reports it
        if kind in first:
            check.at(
                ("channels", name, "default"),
                f"channels '{first[kind]}' and '{name}' are both the default {kind} channel; "
                f"a request naming the type '{kind}' needs one: keep default: true on one",
                "duplicate-type-default",
            )
        else:
            first[kind] = name


def check_fallbacks(check: Checker, channels_data: Mapping[str, Any]) -> None:
    """Each ``fallback`` names another channel that exists, and no chain of fallbacks comes back
    to where it started: one hop is all that is ever taken, so a cycle is a config mistake."""
    graph: dict[str, list[str]] = {}
    for name, data in channels_data.items():
        names = data.get("fallback") if isinstance(data, dict) else None
        if not isinstance(names, list):
            continue  # absent, or the schema reports it
        graph[name] = []
        for i, target in enumerate(names):
            if not isinstance(target, str):
                continue
            if target == name:
                check.at(
                    ("channels", name, "fallback", i),
                    f"channel '{name}' names itself as its fallback: a delivery that dies here "
                    "would die again; name another channel",
                    "fallback-self",
                )
            elif target not in channels_data:
                check.at(
                    ("channels", name, "fallback", i),
                    f"unknown channel '{target}'{did_you_mean(target, list(channels_data))} "
                    f"as fallback of '{name}'; channels are defined under 'channels:' in "
                    "routes.yaml",
                    "unknown-channel",
                )
            else:
                graph[name].append(target)
                _check_fallback_reaches_someone(check, name, i, target, channels_data[target])
    reported: set[frozenset[tuple[str, str]]] = set()
    for name, targets in graph.items():
        for i, target in enumerate(channels_data[name]["fallback"]):
            if target not in targets:
                continue
            back = _fallback_path(graph, target, name)
            if back is None:
                continue
            cycle = [name, *back]
            edges = frozenset(itertools.pairwise(cycle))
            if edges in reported:
                continue  # the same cycle, found from another of its channels
            reported.add(edges)
            check.at(
                ("channels", name, "fallback", i),
                f"fallback cycle: {' -> '.join(cycle)}; a delivery falls back one hop only, so "
                "remove one of these fallbacks",
                "fallback-cycle",
            )


def _check_fallback_reaches_someone(
    check: Checker, name: str, i: int, target: str, data: Any
) -> None:
    """A fallback channel without defaults reaches only the recipients a request names."""
    if not isinstance(data, dict) or data.get("type") in TARGETED_TYPES:
        return
    if data.get("default_recipients"):
        return
    check.at(
        ("channels", name, "fallback", i),
        f"fallback channel '{target}' has no default_recipients: a dead delivery of '{name}' "
        f"reaches it only when its request names a recipient for {data.get('type')}; give "
        f"'{target}' default_recipients",
        "fallback-without-recipients",
        severity=Severity.WARNING,
    )


def _fallback_path(graph: Mapping[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The shortest chain of fallbacks from ``start`` to ``goal`` (both included), if any."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in graph.get(node, ()):
                if nxt == goal:
                    return [*paths[node], goal]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    return None


def _recipient_hint(channel_type: str) -> str:
    return {
        "slack": " (use #channel or @user)",
        "email": " (use an address such as ops@company.com)",
        "sms": " (use an E.164 number such as +15550100)",
    }.get(channel_type, "")


def check_channel_refs(
    check: Checker,
    path: tuple[Any, ...],
    names: Any,
    channels: Mapping[str, Channel],
    all_names: Iterable[str] | None,
) -> list[Channel]:
    """Each channel name must exist; returns the channels that do. ``all_names`` None: the
    channels could not be read (routes.yaml did not parse), so nothing is called unknown."""
    found: list[Channel] = []
    if not isinstance(names, list) or all_names is None:
        return found
    known = set(all_names)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            continue
        if name in channels:
            found.append(channels[name])
        elif name not in known:  # known-but-broken channels are reported where they are defined
            check.at(
                (*path, i),
                f"unknown channel '{name}'{did_you_mean(name, known)}; channels are "
                "defined under 'channels:' in routes.yaml",
                "unknown-channel",
            )
    return found


def check_recipients_fit(
    check: Checker,
    path: tuple[Any, ...],
    recipients: Any,
    channels: list[Channel],
    owner: str,
    people: Mapping[str, set[str]],
    schedules: Mapping[str, set[str]] | None = None,
) -> None:
    """Each recipient reaches one of ``channels``: by its form, or as a person (name -> their
    contact types) or a schedule (each way to write it -> its people's contact types)."""
    if not isinstance(recipients, list) or not channels:
        return
    schedules = schedules or {}
    named = [r for r in recipients if isinstance(r, str) and r not in people and r not in schedules]
    unfit = set(unfit_recipients(channels, named))
    channel_types = {c.type for c in channels}
    types = ", ".join(sorted(channel_types))
    for i, recipient in enumerate(recipients):
        if isinstance(recipient, str) and recipient in schedules:
            if not schedules[recipient] & channel_types:
                check.at(
                    (*path, i),
                    f"schedule '{recipient}' has nobody with a contact for any of {owner}'s "
                    f"channels ({types}); its people's contacts are "
                    f"{', '.join(sorted(schedules[recipient])) or 'none'}",
                    "unfit-recipient",
                )
        elif isinstance(recipient, str) and recipient in people:
            if not people[recipient] & channel_types:
                check.at(
                    (*path, i),
                    f"person '{recipient}' has no contact for any of {owner}'s channels "
                    f"({types}); their contacts are "
                    f"{', '.join(sorted(people[recipient])) or 'none'}",
                    "unfit-recipient",
                )
        elif recipient in unfit:
            check.at(
                (*path, i),
                f"recipient '{recipient}' fits none of {owner}'s channels ({types}): "
                "use #channel/@user for Slack, an e-mail address, +E.164 for SMS, or prefix it "
                "with a channel name, e.g. ops-email:ops@company.com",
                "unfit-recipient",
            )


def check_duplicate_names(check: Checker, key: str, what: str) -> None:
    seen: dict[str, int] = {}
    for i, item in _items(check.parsed.data, key):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            first = check.parsed.doc.value_mark((key, seen[name], "name"))
            check.at(
                (key, i, "name"),
                f"duplicate {what} name '{name}' (first used at line "
                f"{first.line}); {what} names must be unique",
                "duplicate-name",
            )
        else:
            seen[name] = i


def check_template_ref(
    check: Checker, path: tuple[Any, ...], ref: Any, templates: Mapping[str, list[str]]
) -> None:
    if not isinstance(ref, str):
        return
    name, _, version = ref.partition("@")
    if name not in templates:
        check.at(
            path,
            f"unknown template '{name}'{did_you_mean(name, templates)}; templates live in "
            "templates/<name>/<version>.yaml",
            "unknown-template",
        )
    elif version and version not in templates[name]:
        check.at(
            path,
            f"template '{name}' has no version '{version}'; versions: {', '.join(templates[name])}",
            "unknown-template",
        )


def check_policy_ref(
    check: Checker, path: tuple[Any, ...], ref: Any, policies: Iterable[str]
) -> None:
    known = set(policies)
    if isinstance(ref, str) and ref not in known:
        check.at(
            path,
            f"unknown escalation policy '{ref}'{did_you_mean(ref, known)}; policies live in "
            f"policies/<id>.yaml",
            "unknown-policy",
        )


def check_rate_limits(
    check: Checker, channels: Mapping[str, Channel], all_names: Iterable[str] | None
) -> None:
    """``all_names`` None: the channels could not be read, so no channel is called unknown."""
    known = set(all_names or ())
    seen: dict[tuple[str, str], int] = {}
    for i, item in _items(check.parsed.data, "rate_limits"):
        has_channel, has_type = "channel" in item, "type" in item
        if has_channel == has_type:
            check.at(
                ("rate_limits", i),
                "a rate limit names either 'channel' (one channel) or 'type' "
                "(every channel of a type), exactly one of them",
                "rate-limit-target",
            )
            continue
        target = ("channel", item["channel"]) if has_channel else ("type", item["type"])
        if (
            has_channel
            and all_names is not None
            and isinstance(item["channel"], str)
            and item["channel"] not in known
        ):
            check.at(
                ("rate_limits", i, "channel"),
                f"unknown channel '{item['channel']}'{did_you_mean(item['channel'], known)}",
                "unknown-channel",
            )
        if target in seen:
            check.at(
                ("rate_limits", i),
                f"a second rate limit for {target[0]} '{target[1]}' (the "
                f"first is rate_limits[{seen[target]}]); keep one",
                "duplicate-rate-limit",
            )
        seen[target] = i
        if (
            item.get("burst") is not None
            and item.get("algorithm", "sliding_window") != "token_bucket"
        ):
            check.at(
                ("rate_limits", i, "burst"),
                "'burst' applies only to algorithm: token_bucket",
                "no-effect",
            )
        _check_overflow(check, i, item)


def _check_overflow(check: Checker, i: int, item: Mapping[str, Any]) -> None:
    """``overflow: digest`` needs a positive ``digest_after``; ``digest_after`` needs a digest."""
    digest = item.get("overflow") == "digest"
    after = item.get("digest_after")
    if digest and after is None:
        check.at(
            ("rate_limits", i, "overflow"),
            "overflow: digest needs digest_after: how long a delivery may wait for the limit "
            "before it goes into a digest (e.g. digest_after: 30s)",
            "digest-without-after",
        )
    elif after is not None and not digest:
        check.at(
            ("rate_limits", i, "digest_after"),
            "'digest_after' applies only to overflow: digest",
            "no-effect",
        )
    elif isinstance(after, str):
        try:
            positive = parse_duration(after) > 0
        except ValueError:
            return  # the schema reports it
        if not positive:
            check.at(
                ("rate_limits", i, "digest_after"),
                "digest_after must be longer than 0s",
                "digest-after-not-positive",
            )


def check_suppressions(check: Checker) -> None:
    for i, item in _items(check.parsed.data, "suppressions"):
        check_matchers(check, ("suppressions", i, "matchers"), item.get("matchers"))
        fixed = "start" in item or "end" in item
        recurring = "cron" in item or "duration" in item
        name = item.get("name", f"#{i}")
        if fixed and recurring:
            check.at(
                ("suppressions", i),
                f"suppression '{name}' mixes a fixed window (start/end) with a "
                "recurring one (cron/duration); use one form",
                "suppression-form",
            )
            continue
        if not fixed and not recurring:
            check.at(
                ("suppressions", i),
                f"suppression '{name}' needs a window: start and end, or cron "
                "and duration (with an optional timezone)",
                "suppression-form",
            )
            continue
        if fixed:
            _check_fixed_window(check, i, item, name)
        else:
            for key in ("cron", "duration"):
                if key not in item:
                    check.at(
                        ("suppressions", i),
                        f"suppression '{name}' has "
                        f"{'duration' if key == 'cron' else 'cron'} but no '{key}'",
                        "suppression-form",
                    )
        tz = item.get("timezone", "UTC")
        zone_ok = isinstance(tz, str) and _valid_zone(tz)
        if isinstance(tz, str) and not zone_ok:
            check.at(
                ("suppressions", i, "timezone"),
                f"unknown time zone '{tz}': use an IANA name such as Europe/Berlin or UTC",
                "bad-timezone",
            )
        if fixed and "timezone" in item:
            check.at(
                ("suppressions", i, "timezone"),
                "timezone applies to cron windows only; fixed "
                "windows carry their offset in start and end",
                "no-effect",
                severity=Severity.WARNING,
            )
        cron = item.get("cron")
        if isinstance(cron, str):
            try:  # the expression is checked even when its zone is wrong: report both at once
                parse_cron(cron, tz if zone_ok else "UTC")
            except ValueError as exc:
                message = str(exc)
                if not message.startswith("invalid cron"):
                    message = f"invalid cron expression '{cron}': {message}"
                check.at(("suppressions", i, "cron"), message, "bad-cron")


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_fixed_window(check: Checker, i: int, item: dict[str, Any], name: str) -> None:
    times: dict[str, datetime] = {}
    for key in ("start", "end"):
        value = item.get(key)
        if value is None:
            check.at(
                ("suppressions", i),
                f"suppression '{name}' has {'end' if key == 'start' else 'start'} but no '{key}'",
                "suppression-form",
            )
            continue
        if not isinstance(value, str):
            continue
        try:
            stamp = parse_timestamp(value)
        except ValueError:
            check.at(
                ("suppressions", i, key),
                f"'{key}': invalid date-time '{value}': use RFC 3339, e.g. 2026-12-01T00:00:00Z",
                "bad-time",
            )
            continue
        if stamp.tzinfo is None:
            check.at(
                ("suppressions", i, key),
                f"'{key}' has no UTC offset: write it as {value}Z or with an offset such as +01:00",
                "naive-time",
            )
            continue
        times[key] = stamp
    if len(times) == 2 and times["start"] >= times["end"]:
        check.at(
            ("suppressions", i, "end"),
            f"suppression '{name}' ends before it starts "
            f"(end {item['end']} is not after start {item['start']})",
            "window-order",
        )


def check_heartbeats(check: Checker) -> None:
    """Heartbeats: unique names, a producer the config knows, and an interval that is one."""
    data = check.parsed.data
    producers = data.get("producers") if isinstance(data.get("producers"), dict) else {}
    known = {str(p) for p in producers} | {ANONYMOUS_PRODUCER}
    check_duplicate_names(check, "heartbeats", "heartbeat")
    for i, item in _items(data, "heartbeats"):
        producer = item.get("producer")
        if isinstance(producer, str) and producer not in known:
            check.at(
                ("heartbeats", i, "producer"),
                f"unknown producer '{producer}'{did_you_mean(producer, known)}: a heartbeat is "
                "beaten by a producer from producers: (or 'anonymous', the default queue)",
                "unknown-producer",
            )
        interval = item.get("interval")
        if isinstance(interval, str) and _seconds(interval) == 0:
            check.at(
                ("heartbeats", i, "interval"),
                "a heartbeat's interval must be longer than 0s",
                "bad-duration",
            )
        from_alert = item.get("from_alert")
        if isinstance(from_alert, dict):
            _check_from_alert(check, ("heartbeats", i, "from_alert", "matchers"), from_alert)


# A run-time silence or override longer than this belongs in the repository.
MAX_RUNTIME_BOUND = 366 * 86400.0


def check_runtime_bounds(check: Checker) -> None:
    """settings.runtime: each bound a duration of at most 366d (0s turns the kind off)."""
    settings = check.parsed.data.get("settings")
    runtime = settings.get("runtime") if isinstance(settings, dict) else None
    if not isinstance(runtime, dict):
        return
    for key in ("max_silence", "max_override"):
        text = runtime.get(key)
        seconds = _seconds(text) if isinstance(text, str) else None
        if seconds is not None and seconds > MAX_RUNTIME_BOUND:
            check.at(
                ("settings", "runtime", key),
                f"{key} {text} is longer than 366d: a run-time {key.removeprefix('max_')} is "
                "for an emergency; anything longer belongs in the repository (a suppression or "
                "a schedule override in a pull request)",
                "bad-duration",
            )


def _check_from_alert(check: Checker, path: tuple[Any, ...], from_alert: dict[str, Any]) -> None:
    """The matchers parse, and name something: an alert that matches them is taken as a beat and
    opens no alert, so matchers every alert passes would silence the producer's alerts."""
    texts = from_alert.get("matchers")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return  # the schema says what is wrong with it
    check_matchers(check, path, texts)
    try:
        matchers = [parse_matcher(t) for t in texts]
    except MatcherError:
        return  # located above
    if all(m.matches_value("") for m in matchers):
        check.at(
            path,
            "these matchers also match an alert with none of their labels, so they could take "
            "any alert of the producer for a beat (and open no alert for it): match a label's "
            'value, e.g. alertname="Watchdog"',
            "beat-matches-all",
            key=True,
        )


def _seconds(text: str) -> float | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None  # the schema says what is wrong with it


def check_template_files(templates: Iterable[TemplateVersion]) -> dict[str, list[str]]:
    """Template name -> versions, for reference checks."""
    out: dict[str, list[str]] = {}
    for tv in templates:
        out.setdefault(tv.name, []).append(tv.version)
    return out


def check_calendar_feeds(check: Checker, schedule_ids: Iterable[str]) -> None:
    """Each calendar feed names schedules and people that exist."""
    data = check.parsed.data
    feeds = data.get("calendar_feeds")
    if not isinstance(feeds, dict):
        return
    people = data.get("people") if isinstance(data.get("people"), dict) else {}
    known = {"schedules": sorted(schedule_ids), "people": sorted(str(p) for p in people)}
    for name, feed in feeds.items():
        if not isinstance(feed, dict):
            continue
        for key, what in (("schedules", "schedule"), ("people", "person")):
            refs = feed.get(key)
            for i, ref in enumerate(refs if isinstance(refs, list) else ()):
                if isinstance(ref, str) and ref not in known[key]:
                    check.at(
                        ("calendar_feeds", name, key, i),
                        f"calendar feed '{name}' names unknown {what} '{ref}'"
                        f"{did_you_mean(ref, known[key])}; known: "
                        f"{', '.join(known[key]) or 'none'}",
                        f"unknown-{what}",
                    )


def check_principals(check: Checker) -> None:
    """Producers and people as principals: references in may_act_on, one id per principal,
    one token per principal, and the anonymous producer without a token."""
    data = check.parsed.data
    producers = data.get("producers") if isinstance(data.get("producers"), dict) else {}
    people = data.get("people") if isinstance(data.get("people"), dict) else {}
    routes = {str(r["name"]) for _, r in _items(data, "routes") if isinstance(r.get("name"), str)}
    known_producers = {str(p) for p in producers} | {ANONYMOUS_PRODUCER}
    tokens: dict[str, tuple[Any, ...]] = {}
    feeds = data.get("calendar_feeds") if isinstance(data.get("calendar_feeds"), dict) else {}
    # A feed token travels in URLs: one that is also an API token would leak that principal.
    for kind, entries in (("producers", producers), ("people", people), ("calendar_feeds", feeds)):
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            token = entry.get("token")
            match = ENV_REF_ONLY.match(token) if isinstance(token, str) else None
            if match is None:
                continue
            if match.group(1) in tokens:
                first = check.parsed.doc.value_mark(tokens[match.group(1)])
                check.at(
                    (kind, name, "token"),
                    f"token ${{{match.group(1)}}} is already the token at line {first.line}: "
                    "each principal needs its own token, or one could act as the other",
                    "duplicate-token",
                )
            else:
                tokens[match.group(1)] = (kind, name, "token")
    for name in producers:
        if name in people:
            check.at(
                ("producers", name),
                f"'{name}' is both a producer and a person: give each principal its own name",
                "duplicate-name",
                key=True,
            )
    for name, producer in producers.items():
        if not isinstance(producer, dict):
            continue
        if name == ANONYMOUS_PRODUCER and "token" in producer:
            check.at(
                ("producers", name, "token"),
                f"'{ANONYMOUS_PRODUCER}' is the default queue, which has no credential: "
                "give a producer with a token a name of its own",
                "anonymous-token",
            )
        if name == ANONYMOUS_PRODUCER and producer.get("queue"):
            check.at(
                ("producers", name, "queue"),
                f"'{ANONYMOUS_PRODUCER}' is the default queue already: a producer with a queue "
                "of its own needs a name of its own",
                "anonymous-queue",
            )
        may_act_on = producer.get("may_act_on")
        if not isinstance(may_act_on, dict):
            continue
        for key, known, what in (
            ("routes", routes, "route"),
            ("producers", known_producers, "producer"),
        ):
            names = may_act_on.get(key)
            for i, ref in enumerate(names if isinstance(names, list) else ()):
                if isinstance(ref, str) and ref not in known:
                    check.at(
                        ("producers", name, "may_act_on", key, i),
                        f"unknown {what} '{ref}'{did_you_mean(ref, known)} in may_act_on of "
                        f"producer '{name}'",
                        f"unknown-{what}",
                    )
