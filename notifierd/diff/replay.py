"""Replay requests through two snapshots and report which are routed, suppressed or rendered differently."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from notifierd.active import Active
from notifierd.pipeline.render import Renderer
from notifierd.request import Request


@dataclass
class Outcome:
    """What a request gets from one snapshot, in comparable form."""

    routes: tuple[str, ...]
    deliveries: tuple[tuple[str, str], ...]  # (channel, recipient or "-")
    escalation: str | None
    suppressed: str | None
    rendered: dict[tuple[str, str], tuple[str | None, str, str]] = field(
        default_factory=dict
    )  # template, subj, text


@dataclass
class Moved:
    label: str  # the case name or "request N"
    differences: list[str]


def outcome(active: Active, request: Request, at: datetime) -> Outcome:
    decision = active.router.route(request, at)
    renderer = Renderer(active.catalog, request)
    rendered = {}
    for planned in decision.deliveries:
        channel = active.snapshot.channels[planned.channel]
        result = renderer.render(planned.template, planned.template_from, channel.type)
        message = result.message
        rendered[(planned.channel, planned.recipient or "-")] = (
            result.template,
            message.subject if message else f"(cannot render: {result.error})",
            message.text if message else "",
        )
    return Outcome(
        routes=tuple(decision.routes),
        deliveries=tuple(sorted((d.channel, d.recipient or "-") for d in decision.deliveries)),
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
        out.append("no longer to: " + ", ".join(f"{c} {r}" for c, r in gone))
    if came:
        out.append("now also to: " + ", ".join(f"{c} {r}" for c, r in came))
    if old.escalation != new.escalation:
        out.append(f"escalation: {old.escalation or '-'} → {new.escalation or '-'}")
    if old.suppressed != new.suppressed:
        out.append(f"suppressed: {old.suppressed or 'no'} → {new.suppressed or 'no'}")
    for pair in sorted(set(old.rendered) & set(new.rendered)):
        (t1, s1, x1), (t2, s2, x2) = old.rendered[pair], new.rendered[pair]
        where = f"{pair[0]} {pair[1]}"
        if t1 != t2:
            out.append(f"{where}: template {t1 or 'plain'} → {t2 or 'plain'}")
        if s1 != s2:
            out.append(f"{where}: subject {s1!r} → {s2!r}")
        if x1 != x2:
            out.append(f"{where}: text changed")
    return out


def replay(
    old: Active, new: Active, requests: list[tuple[str, dict[str, Any], datetime | None]]
) -> list[Moved]:
    """(label, request JSON, time) through both snapshots; the ones whose fate differs."""
    moved = []
    now = datetime.now(UTC)
    for label, data, at in requests:
        request = Request.from_dict({"id": f"diff-{label}", **data})
        differences = compare(outcome(old, request, at or now), outcome(new, request, at or now))
        if differences:
            moved.append(Moved(label, differences))
    return moved
