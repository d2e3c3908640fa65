"""The config snapshot: frozen values built once from a validated config repository."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any

from notifierd.config.matchers import Matcher
from notifierd.request import TemplateRef

CHANNEL_TYPES = ("slack", "email", "teams", "pagerduty", "webhook", "sms")
# Channel types that deliver once to their configured target instead of to recipients.
TARGETED_TYPES = frozenset({"teams", "pagerduty", "webhook"})
TEMPLATE_VARIANTS = ("slack", "html", "teams")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    max_retries: int = 3
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.1  # +/- fraction of each delay
    # How long a delivery may keep waiting out a provider's rate-limit answers (which are not
    # attempts), from its request's arrival; past it the delivery is dead.
    deadline: float = 3600.0


@dataclass(frozen=True, slots=True)
class Settings:
    retention_days: int = 90
    dedup_window: float = 3600.0
    retry: RetrySettings = field(default_factory=RetrySettings)
    escalation_misfire_grace: float = 3600.0
    # Who may press a Slack button: "anyone" in the workspace (recorded as slack:<user id>), or
    # "people_only": a person from people: with that Slack id and the operate role.
    slack_actions: str = "anyone"
    # Bounds of run-time silences and schedule overrides (settings.runtime), in seconds from
    # when one is added; 0 turns that kind off.
    max_silence: float = 86400.0
    max_override: float = 7 * 86400.0
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Channel:
    """A named delivery target; ``settings`` keep env references unexpanded (``${NAME}``)."""

    name: str
    type: str
    settings: Mapping[str, Any]
    default_recipients: tuple[str, ...] = ()
    # Patterns a request's own recipients may match (config/recipient_patterns.py); a request
    # may always name recipients the config already knows.
    allow_recipients: tuple[str, ...] = ()
    # Channels a delivery that dies here is sent through instead (one hop: a fallback
    # delivery that dies does not fall back again).
    fallback: tuple[str, ...] = ()
    # This channel is its type's default: where a request naming the type goes when its
    # routes chose no channel of that type (at most one per type; validate checks).
    default: bool = False

    @property
    def targeted(self) -> bool:
        """True for teams, pagerduty and webhook: one delivery to the configured target."""
        return self.type in TARGETED_TYPES


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    matchers: tuple[Matcher, ...] = ()
    channels: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    escalation: str | None = None
    template: TemplateRef | None = None
    continue_: bool = False
    # Storm control of webhook intake: past this many new alerts a minute, fold (intake/storm.py).
    max_new_alerts_per_minute: int | None = None


SEVERITY_ORDER = ("info", "warning", "error", "critical")
PRIORITY_ORDER = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a person: a channel type, an address, and from when it applies."""

    type: str  # slack, email or sms
    address: str
    min_severity: str | None = None
    min_priority: str | None = None

    def applies(self, severity: str | None, priority: str | None) -> bool:
        """Whether a request of this severity and priority qualifies (a missing one does not,
        when a minimum is set)."""
        if self.min_severity is not None and (
            severity not in SEVERITY_ORDER
            or SEVERITY_ORDER.index(severity) < SEVERITY_ORDER.index(self.min_severity)
        ):
            return False
        return self.min_priority is None or (
            priority in PRIORITY_ORDER
            and PRIORITY_ORDER.index(priority) >= PRIORITY_ORDER.index(self.min_priority)
        )


@dataclass(frozen=True, slots=True)
class Person:
    """A named recipient with preferences: contacts in order, and whether all or the first
    that applies are used."""

    name: str
    contacts: tuple[Contact, ...]
    reach: str = "all"  # or "first"
    roles: tuple[str, ...] = ()  # view, operate, admin: what the person may do over the API
    token: str | None = None  # the API token's environment reference, ``${NAME}``

    @property
    def slack_ids(self) -> frozenset[str]:
        """The Slack user ids among the person's contacts (``@U123…`` or ``U123…``)."""
        return frozenset(
            c.address.removeprefix("@")
            for c in self.contacts
            if c.type == "slack" and SLACK_USER_ID.match(c.address.removeprefix("@"))
        )

    @property
    def conditional(self) -> bool:
        """True when where the person is reached depends on the request."""
        return any(c.min_severity or c.min_priority for c in self.contacts)


# A Slack member id (U…, or W… on Enterprise Grid), as interactivity payloads carry it.
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

ANONYMOUS_PRODUCER = "anonymous"  # the default queue: a producer with no credential


@dataclass(frozen=True, slots=True)
class Producer:
    """A system that sends requests, known by its credential; ``anonymous`` is the default
    queue, which has none."""

    id: str
    roles: tuple[str, ...] = ("produce",)  # produce, view
    token: str | None = None  # the API token's environment reference, ``${NAME}``
    # Alerts beyond its own it may acknowledge and resolve: those whose opening request
    # matched one of these routes, or that one of these producers opened.
    may_act_on_routes: tuple[str, ...] = ()
    may_act_on_producers: tuple[str, ...] = ()
    description: str | None = None
    # It has a queue of its own, ``<queue>:<id>``, which the daemon consumes: its requests are
    # known to be its own by the list they came from (a Redis ACL user may push only there).
    queue: bool = False


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A limit on one channel (``channel``) or on every channel of a type (``type``)."""

    limit: int
    window: float
    algorithm: str = "sliding_window"  # or token_bucket
    burst: int | None = None
    channel: str | None = None
    type: str | None = None
    # "delay": what the limit holds waits its turn. "digest": what it holds longer than
    # ``digest_after`` seconds is sent as one digest per channel and recipient.
    overflow: str = "delay"
    digest_after: float | None = None

    @property
    def digests(self) -> bool:
        return self.overflow == "digest" and self.digest_after is not None

    @property
    def key(self) -> str:
        return f"channel:{self.channel}" if self.channel else f"type:{self.type}"


@dataclass(frozen=True, slots=True)
class Suppression:
    """Either a fixed window (``start``/``end``) or a recurring one (``cron`` + ``duration``)."""

    name: str
    matchers: tuple[Matcher, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: float | None = None
    timezone: str = "UTC"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    after: float  # seconds since the alert started
    channels: tuple[str, ...]
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    levels: tuple[EscalationLevel, ...]
    repeat: int = 0
    description: str | None = None
    repeat_after: float | None = None  # seconds between rounds; None: derived from the levels


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A producer that must check in every ``interval``; ``grace`` seconds later than that, an
    alert opens (dedup key ``heartbeat:<name>``) and routes like any other."""

    name: str
    interval: float
    producer: str  # the producer id allowed to beat it; ``anonymous``: the default queue
    grace: float = 0.0
    title: str | None = None
    severity: str = "critical"
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str | None = None
    # A dead man's switch (``from_alert: {matchers: [...]}``): a firing Alertmanager or Grafana
    # webhook alert from ``producer`` whose labels match all of these is a beat, not an alert
    # (intake/webhooks.py). Empty: only beat requests beat it.
    from_alert: tuple[Matcher, ...] = ()

    @property
    def allowed(self) -> float:
        """Seconds after a beat the next may take before the heartbeat is late."""
        return self.interval + self.grace

    @property
    def dedup_key(self) -> str:
        return heartbeat_key(self.name)


def heartbeat_key(name: str) -> str:
    """The dedup key of the alert a late heartbeat opens."""
    return f"heartbeat:{name}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()


@dataclass(frozen=True, slots=True)
class Restriction:
    """A local window a layer covers; ``end <= start`` runs past midnight into the next day."""

    days: frozenset[int]  # the weekdays a window starts on, Monday = 0
    start: time
    end: time  # time(0) when written 24:00

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation: members take turns of ``rotation`` seconds of wall-clock time from
    ``start``, a naive local time in the schedule's zone."""

    name: str
    members: tuple[str, ...]
    rotation: float
    start: datetime  # naive: the schedule's wall clock
    restrict: tuple[Restriction, ...] = ()


@dataclass(frozen=True, slots=True)
class Override:
    """A person on call from ``start`` until ``end`` (aware instants), over every layer."""

    person: str
    start: datetime
    end: datetime
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """One file ``schedules/<id>.yaml``: who is on call is computed from it, never stored."""

    id: str
    name: str
    timezone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    handle: str | None = None
    fallback: tuple[str, ...] = ()
    path: str = ""
    notify_handoff: bool = False  # tell the incoming person their shift started


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """``calendar_feeds.<name>`` in routes.yaml: a token that reads the calendar (.ics) feeds of
    these schedules and people, sent in the feed's URL since calendar apps send no headers."""

    name: str
    token: str  # the environment reference, ``${NAME}``
    schedules: tuple[str, ...] = ()
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """One file ``templates/<name>/<version>.yaml``; variants are raw sources (str or JSON-like)."""

    name: str
    version: str
    subject: str
    text: str
    variables: Mapping[str, Any]
    examples: tuple[Mapping[str, Any], ...] = ()
    description: str | None = None
    category: str | None = None
    slack: Any = None  # Block Kit blocks: a list (JSON-like with Jinja strings) or a JSON string
    html: str | None = None
    teams: Any = None  # Adaptive Card body: a mapping or a JSON string
    path: str = ""

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def variants(self) -> tuple[str, ...]:
        return tuple(v for v in TEMPLATE_VARIANTS if getattr(self, v) is not None)


def version_key(version: str) -> tuple[Any, ...]:
    """Sort key: numeric parts numerically (``1.10`` after ``1.9``), others as text."""
    key: list[tuple[int, Any]] = []
    for part in version.lstrip("vV").replace("-", ".").split("."):
        key.append((0, int(part)) if part.isdigit() else (1, part))
    return tuple(key)


@dataclass(frozen=True, slots=True)
class SnapshotId:
    content_hash: str  # sha256 over every file's relative path and bytes
    git_commit: str | None = None
    git_dirty: bool = False

    def __str__(self) -> str:
        short = self.content_hash[:12]
        if self.git_commit:
            return f"{short} (git {self.git_commit[:12]}{'+dirty' if self.git_dirty else ''})"
        return short


@dataclass(frozen=True)
class Snapshot:
    """Everything the daemon needs from one config repository, cross-checked and immutable."""

    root: Path
    identity: SnapshotId
    settings: Settings
    channels: Mapping[str, Channel]
    routes: tuple[Route, ...]
    rate_limits: tuple[RateLimit, ...]
    suppressions: tuple[Suppression, ...]
    policies: Mapping[str, Policy]
    templates: Mapping[str, tuple[TemplateVersion, ...]]  # name -> versions, oldest first
    people: Mapping[str, Person] = field(default_factory=lambda: MappingProxyType({}))
    producers: Mapping[str, Producer] = field(default_factory=lambda: MappingProxyType({}))
    schedules: Mapping[str, Schedule] = field(default_factory=lambda: MappingProxyType({}))
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=lambda: MappingProxyType({}))
    calendar_feeds: Mapping[str, CalendarFeed] = field(default_factory=lambda: MappingProxyType({}))
