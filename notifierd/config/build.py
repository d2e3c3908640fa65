"""Build frozen model values from schema-valid, checked config data (never called on bad data)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from notifierd.config.matchers import parse_matcher
from notifierd.config.model import (
    WEEKDAYS,
    CalendarFeed,
    Channel,
    Contact,
    EscalationLevel,
    Heartbeat,
    Layer,
    Override,
    Person,
    Policy,
    Producer,
    RateLimit,
    Restriction,
    RetrySettings,
    Route,
    Schedule,
    Settings,
    Suppression,
    TemplateVersion,
)
from notifierd.config.values import parse_duration
from notifierd.config.wallclock import to_instant, wall_clock
from notifierd.request import TemplateRef


def freeze(value: Any) -> Any:
    """Deep read-only copy: mappings become MappingProxyType, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def build_settings(data: Mapping[str, Any] | None) -> Settings:
    data = data or {}
    retry = data.get("retry") or {}
    defaults = RetrySettings()
    return Settings(
        retention_days=int(data.get("retention_days", 90)),
        dedup_window=parse_duration(data.get("dedup_window", "1h")),
        retry=RetrySettings(
            max_retries=int(retry.get("max_retries", defaults.max_retries)),
            initial_delay=parse_duration(retry.get("initial_delay", "1s")),
            multiplier=float(retry.get("multiplier", defaults.multiplier)),
            max_delay=parse_duration(retry.get("max_delay", "5m")),
            jitter=float(retry.get("jitter", defaults.jitter)),
            deadline=parse_duration(retry.get("deadline", "1h")),
        ),
        escalation_misfire_grace=parse_duration(
            (data.get("escalation") or {}).get("misfire_grace", "1h")
        ),
        slack_actions=str(data.get("slack_actions", "anyone")),
        max_silence=parse_duration((data.get("runtime") or {}).get("max_silence", "24h")),
        max_override=parse_duration((data.get("runtime") or {}).get("max_override", "7d")),
        raw=freeze(dict(data)),
    )


def build_channel(name: str, data: Mapping[str, Any]) -> Channel:
    own = ("type", "default_recipients", "allow_recipients", "fallback", "default")
    settings = {k: v for k, v in data.items() if k not in own}
    return Channel(
        name=name,
        type=data["type"],
        settings=freeze(settings),
        default_recipients=tuple(data.get("default_recipients") or ()),
        allow_recipients=tuple(data.get("allow_recipients") or ()),
        fallback=tuple(data.get("fallback") or ()),
        default=bool(data.get("default", False)),
    )


def build_route(data: Mapping[str, Any]) -> Route:
    template = data.get("template")
    return Route(
        name=data["name"],
        matchers=tuple(parse_matcher(m) for m in data.get("matchers") or ()),
        channels=tuple(data["channels"]),
        recipients=tuple(data.get("recipients") or ()),
        escalation=data.get("escalation"),
        template=TemplateRef.parse(template) if template else None,
        continue_=bool(data.get("continue", False)),
        max_new_alerts_per_minute=data.get("max_new_alerts_per_minute"),
    )


def build_person(name: str, data: Mapping[str, Any]) -> Person:
    contacts = []
    for contact in data["contacts"]:
        kind = next(k for k in ("slack", "email", "sms") if k in contact)
        contacts.append(
            Contact(
                type=kind,
                address=contact[kind],
                min_severity=contact.get("min_severity"),
                min_priority=contact.get("min_priority"),
            )
        )
    return Person(
        name=name,
        contacts=tuple(contacts),
        reach=data.get("reach", "all"),
        roles=tuple(data.get("roles") or ()),
        token=data.get("token"),
    )


def build_calendar_feed(name: str, data: Mapping[str, Any]) -> CalendarFeed:
    return CalendarFeed(
        name=name,
        token=data["token"],
        schedules=tuple(data.get("schedules") or ()),
        people=tuple(data.get("people") or ()),
    )


def build_producer(producer_id: str, data: Mapping[str, Any]) -> Producer:
    may_act_on = data.get("may_act_on") or {}
    return Producer(
        id=producer_id,
        roles=tuple(data.get("roles") or ("produce",)),
        token=data.get("token"),
        may_act_on_routes=tuple(may_act_on.get("routes") or ()),
        may_act_on_producers=tuple(may_act_on.get("producers") or ()),
        description=data.get("description"),
        queue=bool(data.get("queue", False)),
    )


def build_heartbeat(data: Mapping[str, Any]) -> Heartbeat:
    return Heartbeat(
        name=data["name"],
        interval=parse_duration(data["interval"]),
        grace=parse_duration(data.get("grace", "0s")),
        producer=data["producer"],
        title=data.get("title"),
        severity=data.get("severity", "critical"),
        labels=MappingProxyType({str(k): str(v) for k, v in (data.get("labels") or {}).items()}),
        description=data.get("description"),
        from_alert=tuple(
            parse_matcher(m) for m in (data.get("from_alert") or {}).get("matchers") or ()
        ),
    )


def build_rate_limit(data: Mapping[str, Any]) -> RateLimit:
    return RateLimit(
        limit=int(data["limit"]),
        window=parse_duration(data["window"]),
        algorithm=data.get("algorithm", "sliding_window"),
        burst=data.get("burst"),
        channel=data.get("channel"),
        type=data.get("type"),
        overflow=data.get("overflow", "delay"),
        digest_after=parse_duration(data["digest_after"]) if "digest_after" in data else None,
    )


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 (``Z`` allowed) to an aware datetime; naive values are refused by the checks."""
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def build_suppression(data: Mapping[str, Any]) -> Suppression:
    return Suppression(
        name=data["name"],
        matchers=tuple(parse_matcher(m) for m in data.get("matchers") or ()),
        start=parse_timestamp(data["start"]) if data.get("start") else None,
        end=parse_timestamp(data["end"]) if data.get("end") else None,
        cron=data.get("cron"),
        duration=parse_duration(data["duration"]) if data.get("duration") else None,
        timezone=data.get("timezone", "UTC"),
        reason=data.get("reason"),
    )


def build_policy(policy_id: str, data: Mapping[str, Any]) -> Policy:
    return Policy(
        id=policy_id,
        name=data.get("name") or policy_id,
        description=data.get("description"),
        repeat=int(data.get("repeat", 0)),
        repeat_after=parse_duration(data["repeat_after"]) if data.get("repeat_after") else None,
        levels=tuple(
            EscalationLevel(
                after=parse_duration(level["after"]),
                channels=tuple(level["channels"]),
                recipients=tuple(level.get("recipients") or ()),
            )
            for level in data["levels"]
        ),
    )


def parse_clock(text: str) -> time:
    """``HH:MM`` on a 24-hour clock; ``24:00`` (the end of a day) is midnight."""
    hours, _, minutes = text.partition(":")
    return time(int(hours) % 24, int(minutes))


def local_start(text: str, zone: ZoneInfo) -> datetime:
    """A layer start as the schedule's wall clock (naive); one with an offset is moved there."""
    stamp = parse_timestamp(text)
    return stamp if stamp.tzinfo is None else wall_clock(stamp, zone)


def local_instant(text: str, zone: ZoneInfo) -> datetime:
    """An override bound as a UTC instant: its offset if it has one, else the schedule's zone."""
    stamp = parse_timestamp(text)
    return stamp.astimezone(UTC) if stamp.tzinfo is not None else to_instant(stamp, zone)


def build_schedule(schedule_id: str, data: Mapping[str, Any], rel_path: str) -> Schedule:
    zone = ZoneInfo(data["timezone"])
    return Schedule(
        id=schedule_id,
        name=data.get("name") or schedule_id,
        timezone=data["timezone"],
        handle=data.get("handle"),
        layers=tuple(
            Layer(
                name=layer["name"],
                members=tuple(layer["members"]),
                rotation=parse_duration(layer["rotation"]),
                start=local_start(layer["start"], zone),
                restrict=tuple(
                    Restriction(
                        days=frozenset(WEEKDAYS.index(d) for d in window.get("days") or WEEKDAYS),
                        start=parse_clock(window["from"]),
                        end=parse_clock(window["to"]),
                    )
                    for window in layer.get("restrict") or ()
                ),
            )
            for layer in data["layers"]
        ),
        overrides=tuple(
            Override(
                person=o["person"],
                start=local_instant(o["from"], zone),
                end=local_instant(o["until"], zone),
                reason=o.get("reason"),
            )
            for o in data.get("overrides") or ()
        ),
        fallback=tuple(data.get("fallback") or ()),
        path=rel_path,
        notify_handoff=bool(data.get("notify_handoff", False)),
    )


def build_template(
    name: str, version: str, data: Mapping[str, Any], rel_path: str
) -> TemplateVersion:
    return TemplateVersion(
        name=name,
        version=version,
        subject=data["subject"],
        text=data["text"],
        # Plain dicts, not frozen: jsonschema only accepts real dicts as schemas and objects.
        variables=copy.deepcopy(data.get("variables") or {"type": "object"}),
        examples=tuple(copy.deepcopy(e) for e in data.get("examples") or ()),
        description=data.get("description"),
        category=data.get("category"),
        slack=data.get("slack"),
        html=data.get("html"),
        teams=data.get("teams"),
        path=rel_path,
    )
