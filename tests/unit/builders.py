"""Build snapshots and requests in tests straight from the model, with no YAML in between."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from notifierd.config.matchers import parse_matcher
from notifierd.config.model import (
    Channel,
    Policy,
    Route,
    Settings,
    Snapshot,
    SnapshotId,
    Suppression,
    TemplateVersion,
)
from notifierd.request import Request, TemplateRef

# The channels of PRODUCT.md's example config; requests may name any Slack channel or user
# and x.com addresses themselves.
EXAMPLE_CHANNELS: dict[str, dict[str, Any]] = {
    "ops-slack": {
        "type": "slack",
        "default_recipients": ["#ops"],
        "allow_recipients": ["#*", "@*"],
    },
    "ops-email": {
        "type": "email",
        "default_recipients": ["ops@company.com"],
        "allow_recipients": ["*@x.com"],
    },
    "pager": {"type": "pagerduty"},
    "eng-teams": {"type": "teams"},
    "audit": {"type": "webhook"},
}

# The routes of PRODUCT.md's example config, in order.
EXAMPLE_ROUTES: list[dict[str, Any]] = [
    {
        "name": "critical",
        "matchers": ['severity="critical"'],
        "channels": ["ops-slack", "pager"],
        "recipients": ["#incidents"],
        "escalation": "critical-incident",
        "template": "incident_alert",
        "continue": True,
    },
    {"name": "deploys", "matchers": ['tags=~"deploy.*"', 'env!="dev"'], "channels": ["ops-slack"]},
    {"name": "low", "matchers": ['priority="low"'], "channels": ["ops-email"]},
    {"name": "default", "channels": ["ops-slack"]},
]

EXAMPLE_SUPPRESSIONS: list[dict[str, Any]] = [
    {
        "name": "weekly-maintenance",
        "matchers": ['source=~"maintenance:.*"'],
        "cron": "0 2 * * SAT",
        "duration": 4 * 3600,
        "timezone": "Europe/Berlin",
    },
    {
        "name": "db-migration",
        "matchers": ['service="db"'],
        "start": datetime.fromisoformat("2026-12-01T00:00:00+00:00"),
        "end": datetime.fromisoformat("2026-12-01T04:00:00+00:00"),
    },
]


def channel(
    name: str,
    type: str,
    default_recipients: Iterable[str] = (),
    allow_recipients: Iterable[str] = (),
    default: bool = False,
) -> Channel:
    return Channel(
        name,
        type,
        MappingProxyType({}),
        tuple(default_recipients),
        tuple(allow_recipients),
        default=default,
    )


def make_route(spec: Mapping[str, Any]) -> Route:
    template = spec.get("template")
    return Route(
        name=spec["name"],
        matchers=tuple(parse_matcher(m) for m in spec.get("matchers", ())),
        channels=tuple(spec.get("channels", ())),
        recipients=tuple(spec.get("recipients", ())),
        escalation=spec.get("escalation"),
        template=TemplateRef.parse(template) if template else None,
        continue_=bool(spec.get("continue", False)),
    )


def make_suppression(spec: Mapping[str, Any]) -> Suppression:
    return Suppression(
        name=spec["name"],
        matchers=tuple(parse_matcher(m) for m in spec.get("matchers", ())),
        start=spec.get("start"),
        end=spec.get("end"),
        cron=spec.get("cron"),
        duration=spec.get("duration"),
        timezone=spec.get("timezone", "UTC"),
    )


def template_version(name: str, version: str) -> TemplateVersion:
    return TemplateVersion(
        name=name,
        version=version,
        subject="{{ title }}",
        text="{{ message }}",
        variables=MappingProxyType({"type": "object"}),
    )


def make_snapshot(
    channels: Mapping[str, Mapping[str, Any]] | None = None,
    routes: Iterable[Mapping[str, Any]] | None = None,
    suppressions: Iterable[Mapping[str, Any]] = (),
    templates: Iterable[tuple[str, str]] = (),
    policies: Iterable[str] = (),
) -> Snapshot:
    """A snapshot from plain specs; defaults to PRODUCT.md's example channels and routes."""
    channels = EXAMPLE_CHANNELS if channels is None else channels
    routes = EXAMPLE_ROUTES if routes is None else routes
    by_name: dict[str, list[TemplateVersion]] = {}
    for name, version in templates:
        by_name.setdefault(name, []).append(template_version(name, version))
    return Snapshot(
        root=Path("/nonexistent/config"),
        identity=SnapshotId(content_hash="0" * 64),
        settings=Settings(),
        channels=MappingProxyType(
            {
                name: channel(
                    name,
                    spec["type"],
                    spec.get("default_recipients", ()),
                    spec.get("allow_recipients", ()),
                    spec.get("default", False),
                )
                for name, spec in channels.items()
            }
        ),
        routes=tuple(make_route(r) for r in routes),
        rate_limits=(),
        suppressions=tuple(make_suppression(s) for s in suppressions),
        policies=MappingProxyType({p: Policy(id=p, name=p, levels=()) for p in policies}),
        templates=MappingProxyType({n: tuple(v) for n, v in by_name.items()}),
    )


def example_snapshot() -> Snapshot:
    """PRODUCT.md's example config, suppressions, policy and template included."""
    return make_snapshot(
        suppressions=EXAMPLE_SUPPRESSIONS,
        templates=[("incident_alert", "1.0"), ("deployment_complete", "1.0")],
        policies=["critical-incident"],
    )


def requiring_template(name: str, *required: str, version: str = "1.0") -> TemplateVersion:
    """A template whose context must have ``required`` (as the shipped ones have)."""
    return TemplateVersion(
        name=name,
        version=version,
        subject="{{ title }}",
        text="{{ message }}",
        variables=MappingProxyType({"type": "object", "required": list(required)}),
    )


def example_snapshot_with(*templates: TemplateVersion) -> Snapshot:
    """PRODUCT.md's example config with ``templates`` in place of its versions of those names."""
    base = example_snapshot()
    merged = dict(base.templates)
    for tv in templates:
        merged[tv.name] = (tv,)
    return replace(base, templates=MappingProxyType(merged))


def request(**fields: Any) -> Request:
    """A request from keyword fields (as in the JSON); title and message default to "t"."""
    fields.setdefault("id", "req-1")
    fields.setdefault("title", "t")
    fields.setdefault("message", "t")
    return Request.from_dict(fields)
