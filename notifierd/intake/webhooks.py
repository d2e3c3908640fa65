"""Alertmanager-style webhook payloads (Alertmanager's and Grafana's) as our requests.

Pure translation: a payload in, the request dicts to queue (or the problems with it) out. Both
tools send one notification per alert *group*, repeating the group's current alerts each time
(``repeat_interval``), so every request id is derived from what it says — the group key, the
alert's fingerprint, its status and ``startsAt`` — and a re-sent payload yields the same ids,
which the intake ledger (``store``, ``webhook_requests``) queues once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifierd.config.model import SEVERITY_ORDER, Heartbeat

# A dedup key is at most 255 characters (request.schema.json); a longer group key is hashed.
_MAX_KEY = 255
_SEVERITIES = frozenset(SEVERITY_ORDER)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the senders: the ``source`` of the requests, the payload version
    they send, and the id prefix that keeps their request ids apart."""

    source: str
    version: str
    prefix: str


@dataclass(frozen=True, slots=True)
class Translated:
    """The requests one payload becomes, in payload order (may be empty: nothing new to say)."""

    requests: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why the payload is refused (400): the sender's retries would not help."""

    problems: tuple[str, ...]


def translate(payload: Any, dialect: Dialect, *, per_alert: bool = False) -> Translated | Invalid:
    """The requests for ``payload``; ``per_alert``: one notifierd alert per alert (fingerprint
    and startsAt as its dedup key) instead of one per group (the group key)."""
    problems = _problems(payload, dialect)
    if problems:
        return Invalid(tuple(problems))
    group_key = str(payload["groupKey"])
    alerts: Sequence[Mapping[str, Any]] = payload["alerts"]
    out: list[dict[str, Any]] = []
    for alert in alerts:
        firing = alert["status"] == "firing"
        if per_alert:
            key = _key(dialect.prefix, f"{alert['fingerprint']}@{alert['startsAt']}")
            action = "trigger" if firing else "resolve"
        elif firing:
            key, action = _key(dialect.prefix, group_key), "trigger"
        else:
            # A member that resolves while others still fire is an update (below); the group
            # resolves with its last member.
            continue
        out.append(_request(payload, alert, dialect, key, action))
    if per_alert or not alerts:
        return Translated(tuple(out))
    if payload["status"] == "resolved":
        out.append(_group_resolve(payload, alerts, dialect))
    else:
        # After its members' triggers, the group's roster: the open alert's thread hears who
        # joined and who resolved since the last roster, once (one request per payload, not a
        # roster on every member's request, which would grow with the square of the group).
        out.append(_group_update(payload, alerts, dialect))
    return Translated(tuple(out))


@dataclass(frozen=True, slots=True)
class Beats:
    """A payload split for the heartbeats it beats (a dead man's switch, ``from_alert``):
    ``beaten``, the heartbeats its firing alerts beat, and ``payload``, the payload without the
    alerts that are beats (firing or resolved), translated as usual."""

    beaten: tuple[str, ...]
    payload: dict[str, Any]


def split_beats(payload: Any, dialect: Dialect, heartbeats: Iterable[Heartbeat]) -> Beats | Invalid:
    """The heartbeats ``payload`` beats, among ``heartbeats`` (those of its sender); every alert
    matching one's ``from_alert`` leaves the payload, so it opens no alert.

    A resolved copy is dropped too, and beats nothing: the Watchdog alert never resolves while
    Prometheus runs, and Alertmanager's resolved notice (the rule removed) is no sign of life.
    """
    problems = _problems(payload, dialect)
    if problems:
        return Invalid(tuple(problems))
    watched = [h for h in heartbeats if h.from_alert]
    beaten: list[str] = []
    kept: list[Any] = []
    for alert in payload["alerts"]:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        names = [h.name for h in watched if _beats(h, labels)]
        if not names:
            kept.append(alert)
        elif alert["status"] == "firing":
            beaten.extend(n for n in names if n not in beaten)
    if len(kept) == len(payload["alerts"]):
        return Beats((), payload)
    rest = {**payload, "alerts": kept}
    if all(alert["status"] == "resolved" for alert in kept):
        # The group fired only through its beats: what is left of it has resolved.
        rest["status"] = "resolved"
    return Beats(tuple(beaten), rest)


def _beats(heartbeat: Heartbeat, labels: Mapping[str, str]) -> bool:
    """Alertmanager's matching: every matcher holds, an absent label is the empty string."""
    return all(m.matches_value(labels.get(m.name, "")) for m in heartbeat.from_alert)


def request_id(dialect: Dialect, *parts: str) -> str:
    """A stable request id for ``parts``: the same payload, the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"{dialect.prefix}-{digest}"


def _key(prefix: str, text: str) -> str:
    key = f"{prefix}:{text}"
    if len(key) <= _MAX_KEY:
        return key
    return f"{prefix}:sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def _request(
    payload: Mapping[str, Any],
    alert: Mapping[str, Any],
    dialect: Dialect,
    key: str,
    action: str,
) -> dict[str, Any]:
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()}
    severity = labels.get("severity")
    request: dict[str, Any] = {
        "id": request_id(
            dialect,
            str(payload["groupKey"]),
            str(alert["fingerprint"]),
            str(alert["status"]),
            str(alert["startsAt"]),
        ),
        "kind": "alert",
        "action": action,
        "dedup_key": key,
        "title": _title(annotations, labels)[:1000],
        "message": _message(payload, alert, annotations)[:100_000],
        "source": dialect.source,
        "context": {dialect.source: _context(payload, alert, annotations)},
    }
    if severity in _SEVERITIES:
        request["severity"] = severity
        del labels["severity"]
    request["labels"] = labels
    return request


def _group_resolve(
    payload: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], dialect: Dialect
) -> dict[str, Any]:
    """The one resolve of a group whose alerts all resolved; its id names every member, so the
    group firing and resolving again later is a new resolve."""
    members = sorted(f"{a['fingerprint']}@{a['startsAt']}" for a in alerts)
    group_key = str(payload["groupKey"])
    common = {str(k): str(v) for k, v in (payload.get("commonLabels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (payload.get("commonAnnotations") or {}).items()}
    return {
        "id": request_id(dialect, group_key, "resolved", *members),
        "kind": "alert",
        "action": "resolve",
        "dedup_key": _key(dialect.prefix, group_key),
        "title": _title(annotations, common)[:1000],
        "source": dialect.source,
        "labels": common,
        "metadata": {"by": f"{dialect.source}: every alert of the group resolved"},
    }


def _member(alert: Mapping[str, Any]) -> dict[str, str]:
    """One alert of a group as a member of its notifierd alert: ``DiskFull on db-2``."""
    labels = alert.get("labels") or {}
    name = str(
        labels.get("alertname") or (alert.get("annotations") or {}).get("summary") or "alert"
    )
    where = labels.get("instance")
    return {
        "key": f"{alert['fingerprint']}@{alert['startsAt']}",
        "title": (f"{name} on {where}" if where else name)[:300],
        "status": str(alert["status"]),
    }


def _group_update(
    payload: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], dialect: Dialect
) -> dict[str, Any]:
    """The roster of a group that still fires; its id names every member's state, so a re-send
    is the same request and the ledger queues it once."""
    group_key = str(payload["groupKey"])
    roster = [_member(alert) for alert in alerts]
    states = sorted(f"{m['key']}={m['status']}" for m in roster)
    common = {str(k): str(v) for k, v in (payload.get("commonLabels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (payload.get("commonAnnotations") or {}).items()}
    return {
        "id": request_id(dialect, group_key, "update", *states),
        "kind": "alert",
        "action": "update",
        "dedup_key": _key(dialect.prefix, group_key),
        "title": _title(annotations, common)[:1000],
        "source": dialect.source,
        "labels": common,
        "members": roster,
    }


def _title(annotations: Mapping[str, str], labels: Mapping[str, str]) -> str:
    return annotations.get("summary") or labels.get("alertname") or "alert"


def _message(
    payload: Mapping[str, Any], alert: Mapping[str, Any], annotations: Mapping[str, str]
) -> str:
    lines = [annotations.get("description", "")]
    if alert.get("generatorURL"):
        lines.append(f"Source: {alert['generatorURL']}")
    if payload.get("externalURL"):
        lines.append(f"Alertmanager: {payload['externalURL']}")
    return "\n".join(line for line in lines if line)


def _context(
    payload: Mapping[str, Any], alert: Mapping[str, Any], annotations: Mapping[str, str]
) -> dict[str, Any]:
    extra = {
        name: alert[name]
        for name in ("silenceURL", "dashboardURL", "panelURL", "values")
        if alert.get(name)
    }
    return {
        "group_key": payload["groupKey"],
        "receiver": payload.get("receiver", ""),
        "status": alert["status"],
        "fingerprint": alert["fingerprint"],
        "starts_at": alert["startsAt"],
        "ends_at": alert.get("endsAt", ""),
        "generator_url": alert.get("generatorURL", ""),
        "external_url": payload.get("externalURL", ""),
        "annotations": dict(annotations),
        "group_labels": dict(payload.get("groupLabels") or {}),
        **extra,
    }


def _problems(payload: Any, dialect: Dialect) -> list[str]:
    if not isinstance(payload, dict):
        return ["the payload must be a JSON object"]
    problems: list[str] = []
    if payload.get("version") != dialect.version:
        problems.append(
            f"version: {dialect.source} webhook payload version {dialect.version!r} expected, "
            f"got {payload.get('version')!r}"
        )
    if not isinstance(payload.get("groupKey"), str) or not payload["groupKey"]:
        problems.append("groupKey: a non-empty string is required")
    if payload.get("status") not in ("firing", "resolved"):
        problems.append("status: 'firing' or 'resolved' is required")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        problems.append("alerts: a list is required")
        return problems
    for i, alert in enumerate(alerts):
        where = f"alerts[{i}]"
        if not isinstance(alert, dict):
            problems.append(f"{where}: must be an object")
            continue
        if not isinstance(alert.get("fingerprint"), str) or not alert["fingerprint"]:
            problems.append(f"{where}.fingerprint: a non-empty string is required")
        if alert.get("status") not in ("firing", "resolved"):
            problems.append(f"{where}.status: 'firing' or 'resolved' is required")
        if not isinstance(alert.get("startsAt"), str) or not alert["startsAt"]:
            problems.append(f"{where}.startsAt: a timestamp string is required")
        for name in ("labels", "annotations"):
            if alert.get(name) is not None and not isinstance(alert[name], dict):
                problems.append(f"{where}.{name}: must be an object")
    return problems


ALERTMANAGER = Dialect(source="alertmanager", version="4", prefix="am")
GRAFANA = Dialect(source="grafana", version="1", prefix="grafana")
