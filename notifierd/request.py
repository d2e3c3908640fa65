"""The request a producer sends: an immutable value built from the JSON that matched the schema."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import field
from types import MappingProxyType
from typing import Any

from notifierd.valueclass import value_class


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@value_class
class TemplateRef:
    """``name`` (the newest version) or ``name@version`` (pinned)."""

    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> TemplateRef:
        name, _, version = text.partition("@")
        return cls(name=name, version=version or None)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@value_class
class Member:
    """One of the things an alert stands for (an Alertmanager group's alert), as its producer
    last described it: the alert's roster is the set of them, see ``notifierd.alerts.members``."""

    key: str  # stable across the producer's re-sends (Alertmanager: fingerprint@startsAt)
    title: str
    firing: bool


@value_class
class Request:
    """One notification or alert request, as validated against ``request.schema.json``."""

    id: str
    kind: str = "notification"
    action: str | None = None
    title: str | None = None
    message: str | None = None
    template: TemplateRef | None = None
    context: Mapping[str, Any] = field(default_factory=_empty)
    priority: str | None = None
    severity: str | None = None
    channels: tuple[str, ...] | None = None
    recipients: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_empty)
    metadata: Mapping[str, Any] = field(default_factory=_empty)
    source: str | None = None
    protocol: str | None = None
    dedup_key: str | None = None
    escalation_policy: str | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()
    # Alerts only: the alert's whole roster as the producer sees it now (empty: not said).
    members: tuple[Member, ...] = ()
    name: str | None = None  # heartbeats only: the heartbeat (routes.yaml) this request beats
    # The producer whose queue the request came from (None: the default queue, anonymous).
    # Set by the intake from the list it took the request from, never from the JSON, which
    # any producer writes: the request schema has no such field.
    producer: str | None = None
    raw: Mapping[str, Any] = field(default_factory=_empty, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], producer: str | None = None) -> Request:
        """Build from a schema-valid mapping; a missing ``id`` is generated (idempotency key).
        ``producer``: whose queue it came from (see ``Request.producer``)."""
        template = data.get("template")
        kind = data.get("kind", "notification")
        action = data.get("action")
        if kind == "alert" and action is None:
            action = "trigger"
        return cls(
            id=str(data.get("id") or uuid.uuid4()),
            kind=kind,
            action=action,
            title=data.get("title"),
            message=data.get("message"),
            template=TemplateRef.parse(template) if template else None,
            context=MappingProxyType(dict(data.get("context") or {})),
            priority=data.get("priority"),
            severity=data.get("severity"),
            channels=tuple(data["channels"]) if data.get("channels") else None,
            recipients=tuple(data["recipients"]) if data.get("recipients") else None,
            tags=tuple(data.get("tags") or ()),
            labels=MappingProxyType({k: str(v) for k, v in (data.get("labels") or {}).items()}),
            metadata=MappingProxyType(dict(data.get("metadata") or {})),
            source=data.get("source"),
            protocol=data.get("protocol"),
            dedup_key=data.get("dedup_key"),
            escalation_policy=data.get("escalation_policy"),
            attachments=tuple(data.get("attachments") or ()),
            members=tuple(
                Member(str(m["key"]), str(m["title"]), m["status"] == "firing")
                for m in data.get("members") or ()
            ),
            name=data.get("name"),
            producer=producer,
            raw=MappingProxyType(dict(data)),
        )

    @property
    def order_key(self) -> str:
        """Requests of one key are applied in queue order, one after another, across replicas.

        An alert's requests share its dedup key (its id when it has none), so a resolve never
        overtakes its trigger; any other request is ordered only with pushes of the same id.
        ``notifierd.redisio.keys`` computes the same key in Lua (``order_key``): keep them alike.
        """
        if self.kind == "alert":
            return f"alert:{self.dedup_key or self.id}"
        return f"id:{self.id}"

    def lookup(self, name: str) -> str:
        """The value a matcher named ``name`` sees: a request field, else a label; absent is ''."""
        if name == "template":
            return str(self.template) if self.template else ""
        if name in ("severity", "priority", "kind", "action", "source", "protocol", "title"):
            value = getattr(self, name)
            return "" if value is None else str(value)
        return self.labels.get(name, "")

    def base_context(self) -> dict[str, Any]:
        """The request's own fields a template sees, before ``context`` is laid over them."""
        return {
            "id": self.id,
            "title": self.title,
            "message": self.message,
            "severity": self.severity,
            "priority": self.priority,
            "source": self.source,
            "protocol": self.protocol,
            "kind": self.kind,
            "action": self.action,
            "tags": list(self.tags),
            "labels": dict(self.labels),
            "metadata": dict(self.metadata),
        }
