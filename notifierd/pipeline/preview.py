"""What the daemon would do with one request, without doing it (``notifierd routes test``).

The processor's stages in its order — parse, an alert's acknowledge/resolve, route, suppression,
render — through the same functions and with the same texts it records, but nothing is sent or
stored. Dedup and open alerts live in Redis and Postgres, so a preview answers for a request the
daemon sees for the first time.

A failure is something the daemon would reject, ignore or dead-letter; a warning is recorded
with deliveries that still go out (a route's template falling back to plain text, a recipient
that fits none of the channels).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifierd.active import Active
from notifierd.intake.parse import Rejection, parse_request
from notifierd.pipeline.oncall import schedule_of
from notifierd.pipeline.outcome import (
    joined_note,
    no_alert_named,
    rejected_reason,
    suppressed_reason,
    unknown_channel_error,
    unrouted_reason,
)
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import PlannedDelivery, RoutingDecision
from notifierd.schedules.paging import Unpaged, page
from notifierd.status import DeliveryStatus
from notifierd.templates import TemplateNotFound


@dataclass(frozen=True, slots=True)
class Finding:
    """A failure or a warning, in the words the daemon records; where, when it is one delivery."""

    message: str
    channel: str | None = None
    recipient: str | None = None


@dataclass(frozen=True, slots=True)
class PreviewDelivery:
    planned: PlannedDelivery
    channel_type: str
    status: DeliveryStatus  # QUEUED (it would be sent), DEAD or SUPPRESSED
    template: str | None  # name@version it renders with; None: plain title + message
    error: str | None = None  # why it is dead
    fallback: str | None = None  # why the route's template was not used (plain text instead)

    @property
    def note(self) -> str | None:
        """The note the daemon records with the delivery."""
        return joined_note(self.planned.note, self.fallback)


@dataclass(frozen=True, slots=True)
class AlertAction:
    """An acknowledge or resolve: it acts on the open alert its dedup_key names, unrouted."""

    action: str
    dedup_key: str | None


@dataclass(frozen=True)
class Preview:
    request: Request | None  # None: rejected before it became a request
    outcome: str  # the request's outcome as the daemon records it (routed, rejected, ...)
    reason: str | None
    decision: RoutingDecision | None = None
    deliveries: tuple[PreviewDelivery, ...] = ()
    unknown_channels: tuple[str, ...] = ()
    alert_action: AlertAction | None = None
    failures: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    # Only a triggered, unsuppressed alert with a policy the config has escalates; a
    # notification never does, whatever its route's escalation says.
    escalates: bool = False

    @property
    def fails(self) -> bool:
        """Whether the daemon would reject, ignore or dead-letter something of it."""
        return bool(self.failures)


def preview(active: Active, data: Mapping[str, Any], now: datetime) -> Preview:
    """What processing the request ``data`` (decoded JSON) at ``now`` would record."""
    # As a producer's JSON would carry it: text the daemon cannot store arrives as \u escapes.
    parsed = parse_request(json.dumps(data))
    if isinstance(parsed, Rejection):
        return Preview(None, "rejected", parsed.reason, failures=(Finding(parsed.reason),))
    request = parsed
    if request.kind == "alert" and request.action in ("acknowledge", "resolve"):
        return _alert_action(request)

    decision = active.router.route(request, now, active.silences)
    warnings = [Finding(w) for w in decision.warnings]
    if decision.refused:
        reason = rejected_reason(decision.refused)
        return Preview(request, "rejected", reason, decision, failures=(Finding(reason),))

    failures: list[Finding] = []
    for name in decision.unknown_channels:
        failures.append(Finding(unknown_channel_error(name, active.id), channel=name))
    if decision.suppressed_by:  # held before an alert opens: nothing escalates either
        reason = suppressed_reason(decision)
        held = tuple(_held(active, d, DeliveryStatus.SUPPRESSED) for d in decision.deliveries)
        return _done(request, "suppressed", reason, decision, held, failures, warnings, False)
    policy = decision.escalation
    alert = request.kind == "alert"  # an acknowledge or resolve returned above
    escalates = alert and policy is not None and policy in active.snapshot.policies
    if alert and policy is not None and not escalates:
        warnings.append(
            Finding(
                f"escalation policy {policy!r} is not in config {active.id}; "
                "the alert opens but will not escalate"
            )
        )
    if not decision.deliveries and not decision.unknown_channels:
        reason = unrouted_reason(decision.routes)
        failures.append(Finding(reason))  # nothing is sent: nobody hears of it
        return _done(request, "unrouted", reason, decision, (), failures, warnings, escalates)

    renderer = Renderer(active.catalog, request)
    deliveries = []
    for planned in decision.deliveries:
        delivery = _rendered(active, renderer, planned, request, now)
        deliveries.append(delivery)
        where = {"channel": planned.channel, "recipient": planned.recipient}
        if delivery.error is not None:
            failures.append(Finding(delivery.error, **where))
        if delivery.fallback is not None:
            warnings.append(Finding(delivery.fallback, **where))
    routed = tuple(deliveries)
    return _done(request, "routed", None, decision, routed, failures, warnings, escalates)


def _alert_action(request: Request) -> Preview:
    action = AlertAction(str(request.action), request.dedup_key)
    if not request.dedup_key:
        reason = no_alert_named(request.action)
        return Preview(request, "ignored", reason, alert_action=action, failures=(Finding(reason),))
    outcome = "acknowledged" if request.action == "acknowledge" else "resolved"
    return Preview(request, outcome, None, alert_action=action)


def _done(
    request: Request,
    outcome: str,
    reason: str | None,
    decision: RoutingDecision,
    deliveries: tuple[PreviewDelivery, ...],
    failures: list[Finding],
    warnings: list[Finding],
    escalates: bool,
) -> Preview:
    return Preview(
        request,
        outcome,
        reason,
        decision,
        deliveries,
        decision.unknown_channels,
        failures=tuple(failures),
        warnings=tuple(dict.fromkeys(warnings)),  # one Finding per distinct text and place
        escalates=escalates,
    )


def _held(active: Active, planned: PlannedDelivery, status: DeliveryStatus) -> PreviewDelivery:
    """Held back unrendered, as the daemon holds it; the template it would render with."""
    channel = active.snapshot.channels[planned.channel]
    template = None
    if planned.template is not None:
        try:
            template = active.catalog.resolve(planned.template).ref
        except TemplateNotFound:
            template = str(planned.template)
    return PreviewDelivery(planned, channel.type, status, template)


def _rendered(
    active: Active, renderer: Renderer, planned: PlannedDelivery, request: Request, now: datetime
) -> PreviewDelivery:
    channel = active.snapshot.channels[planned.channel]
    try:
        rendered = renderer.render(planned.template, planned.template_from, channel.type)
    except Exception as exc:  # the daemon kills the one delivery with the error, as here
        error = f"internal error: {type(exc).__name__}: {exc}"[:2000]
        return PreviewDelivery(planned, channel.type, DeliveryStatus.DEAD, None, error)
    dead, fallback = DeliveryStatus.DEAD, rendered.note
    if rendered.message is None:  # the request's own template cannot render: permanent
        return PreviewDelivery(planned, channel.type, dead, rendered.template, rendered.error)
    if planned.recipient is None and not channel.targeted:
        error = (
            f"{channel.type} channel {channel.name!r} has no recipient: none of the recipients "
            "fits it and it has no default_recipients, so the channel refuses the delivery"
        )
        return PreviewDelivery(planned, channel.type, dead, rendered.template, error, fallback)
    sid = schedule_of(active.snapshot, planned.recipient)
    if sid is not None:  # resolved as at the first attempt, at the preview's time
        schedule = active.snapshot.schedules[sid]
        paged = page(
            schedule, active.snapshot.people, channel, request.severity, request.priority, now
        )
        if isinstance(paged, Unpaged):
            return PreviewDelivery(planned, channel.type, dead, rendered.template, paged.reason)
    queued = DeliveryStatus.QUEUED
    return PreviewDelivery(planned, channel.type, queued, rendered.template, None, fallback)
