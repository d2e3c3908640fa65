"""Replay requests through two snapshots and report which are routed, suppressed or rendered differently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifierd.active import Active
from notifierd.pipeline.render import Renderer
from notifierd.request import Request

# A channel with no recipient (teams, pagerduty, webhook) delivers to the target in its settings.
OWN_TARGET = ""

Target = tuple[str, str]  # (channel, recipient, or OWN_TARGET)


def target_name(target: Target) -> str:
    """How a delivery target reads in the diff: ``ops-slack #ops``, ``pager (its own target)``."""
    channel, recipient = target
    return f"{channel} {recipient}" if recipient != OWN_TARGET else f"{channel} (its own target)"


@dataclass(frozen=True)
class Replayed:
    """A request replayed through both snapshots: a config test's case or a sample request."""

    label: str  # what its author calls it: the case name, else its id, title or position
    key: str  # unique among the replayed requests; it names one that has no id (diff-KEY)
    request: dict[str, Any]
    at: datetime | None  # None: now


@dataclass
class Outcome:
    """What a request gets from one snapshot, in comparable form."""

    routes: tuple[str, ...]
    deliveries: tuple[Target, ...]
    escalation: str | None
    suppressed: str | None
    rendered: dict[Target, tuple[str | None, str, str]] = field(
        default_factory=dict
    )  # template, subj, text


@dataclass
class Moved:
    label: str  # as Replayed.label
    differences: list[str]


def outcome(active: Active, request: Request, at: datetime) -> Outcome:
    decision = active.router.route(request, at)
    renderer = Renderer(active.catalog, request)
    rendered = {}
    for planned in decision.deliveries:
        channel = active.snapshot.channels[planned.channel]
        result = renderer.render(planned.template, planned.template_from, channel.type)
        message = result.message
        rendered[(planned.channel, planned.recipient or OWN_TARGET)] = (
            result.template,
            message.subject if message else f"(cannot render: {result.error})",
            message.text if message else "",
        )
    return Outcome(
        routes=tuple(decision.routes),
        deliveries=tuple(
            sorted((d.channel, d.recipient or OWN_TARGET) for d in decision.deliveries)
        ),
        escalation=decision.escalation,
        suppressed=decision.suppressed_by,
        rendered=rendered,
    )


def compare(old: Outcome, new: Outcome) -> list[str]:
    out = []
    if old.routes != new.routes:
        out.append(f"routes: {', '.join(old.routes) or '-'} → {', '.join(new.routes) or '-'}")
    gone = sorted(set(old.deliveries) - set(new.deliveries))
    came = sorted(set(new.deliveries) - set(old.deliveries))
    if gone:
        out.append("no longer to: " + ", ".join(map(target_name, gone)))
    if came:
        out.append("now also to: " + ", ".join(map(target_name, came)))
    if old.escalation != new.escalation:
        out.append(f"escalation: {old.escalation or '-'} → {new.escalation or '-'}")
    if old.suppressed != new.suppressed:
        out.append(f"suppressed: {old.suppressed or 'no'} → {new.suppressed or 'no'}")
    for pair in sorted(set(old.rendered) & set(new.rendered)):
        (t1, s1, x1), (t2, s2, x2) = old.rendered[pair], new.rendered[pair]
        where = target_name(pair)
        if t1 != t2:
            out.append(f"{where}: template {t1 or 'plain'} → {t2 or 'plain'}")
        if s1 != s2:
            out.append(f"{where}: subject {s1!r} → {s2!r}")
        if x1 != x2:
            out.append(f"{where}: text changed")
    return out


def replay(old: Active, new: Active, requests: list[Replayed]) -> list[Moved]:
    """Each request through both snapshots; the ones whose fate differs."""
    moved = []
    now = datetime.now(UTC)
    for item in requests:
        request = Request.from_dict({"id": f"diff-{item.key}", **item.request})
        at = item.at or now
        differences = compare(outcome(old, request, at), outcome(new, request, at))
        if differences:
            moved.append(Moved(item.label, differences))
    return moved
