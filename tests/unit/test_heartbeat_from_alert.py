"""A dead man's switch: a heartbeat beaten by a webhook alert (``from_alert``), what validate says
of it, and how a payload splits into beats and the alerts translated as usual."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from notifierd.config.matchers import parse_matcher
from notifierd.config.model import Heartbeat
from notifierd.intake.webhooks import (
    ALERTMANAGER,
    GRAFANA,
    Beats,
    Invalid,
    Translated,
    split_beats,
    translate,
)
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
HEARTBEATS = """\
producers:
  alertmanager: {token: "${AM_TOKEN}", queue: true}
heartbeats:
  - name: prometheus
    interval: 5m
    grace: 2m
    producer: alertmanager
    from_alert:
      matchers: ['alertname="Watchdog"', 'prometheus=~"prod-.*"']
"""
WATCHDOG = Heartbeat(
    name="prometheus",
    interval=300,
    producer="alertmanager",
    from_alert=(parse_matcher('alertname="Watchdog"'),),
)


def _alert(name: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": "2026-11-30T03:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": f"fp-{name}-{sorted(labels.items())}",
    }


def _payload(*alerts: dict[str, Any], dialect: str = "4") -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": dialect,
        "groupKey": "{}:{}",
        "status": "firing" if firing else "resolved",
        "receiver": "notifierd",
        "alerts": list(alerts),
    }


def _split(payload: Any, *heartbeats: Heartbeat) -> Beats:
    out = split_beats(payload, ALERTMANAGER, heartbeats or (WATCHDOG,))
    assert isinstance(out, Beats), out
    return out


def _requests(payload: dict[str, Any]) -> list[dict[str, Any]]:
    out = translate(payload, ALERTMANAGER)
    assert isinstance(out, Translated), out
    return list(out.requests)


def test_from_alert_becomes_the_heartbeats_matchers(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES + HEARTBEATS})
    assert result.problems == []
    assert result.snapshot is not None
    beat = result.snapshot.heartbeats["prometheus"]
    assert [str(m) for m in beat.from_alert] == ['alertname="Watchdog"', 'prometheus=~"prod-.*"']


def test_validate_locates_from_alert_problems(tmp_path: Path) -> None:
    first = MINIMAL_ROUTES.count("\n") + 1  # the line 'producers:' is on
    bad_regex = HEARTBEATS.replace('prod-.*"', 'prod-(.*"')
    assert findings(tmp_path, {"routes.yaml": MINIMAL_ROUTES + bad_regex}) == [
        f"routes.yaml:{first + 8}:61: invalid regular expression 'prod-(.*': missing ), "
        "unterminated subpattern",
    ]
    match_all = HEARTBEATS.replace(
        """['alertname="Watchdog"', 'prometheus=~"prod-.*"']""",
        """['alertname!="DiskFull"', 'env=~".*"']""",
    )
    assert findings(tmp_path, {"routes.yaml": MINIMAL_ROUTES + match_all}) == [
        f"routes.yaml:{first + 8}:7: these matchers also match an alert with none of their "
        "labels, so they could take any alert of the producer for a beat (and open no alert for "
        'it): match a label\'s value, e.g. alertname="Watchdog"',
    ]
    empty = HEARTBEATS.replace("""['alertname="Watchdog"', 'prometheus=~"prod-.*"']""", "[]")
    assert findings(tmp_path, {"routes.yaml": MINIMAL_ROUTES + empty}) == [
        f"routes.yaml:{first + 8}:17: 'matchers' needs at least 1 item(s)",
    ]
    misspelt = HEARTBEATS.replace("      matchers:", "      matcher:")
    assert findings(tmp_path, {"routes.yaml": MINIMAL_ROUTES + misspelt}) == [
        f"routes.yaml:{first + 8}:7: 'from_alert' is missing the required key 'matchers'",
        f"routes.yaml:{first + 8}:7: unknown key 'matcher' (did you mean 'matchers'?)",
    ]


def test_a_firing_watchdog_is_a_beat_and_opens_no_alert() -> None:
    split = _split(_payload(_alert("Watchdog")))
    assert split.beaten == ("prometheus",)
    assert split.payload["alerts"] == []
    assert _requests(split.payload) == []


def test_a_resolved_watchdog_beats_nothing_and_resolves_nothing() -> None:
    split = _split(_payload(_alert("Watchdog", status="resolved")))
    assert split.beaten == ()
    assert _requests(split.payload) == []


def test_other_alerts_of_the_payload_are_translated_as_before() -> None:
    disk = _alert("DiskFull", instance="db-1")
    alone = _requests(_payload(disk))
    split = _split(_payload(_alert("Watchdog"), disk))
    assert split.beaten == ("prometheus",)
    # The same requests, with the same ids, as if the Watchdog had never been in the group.
    assert _requests(split.payload) == alone


def test_a_group_left_with_only_resolved_alerts_resolves() -> None:
    """A group that fired only through its Watchdog: once its other alerts resolved, the
    group's notifierd alert resolves, though Alertmanager still calls the group firing."""
    payload = _payload(_alert("Watchdog"), _alert("DiskFull", status="resolved", instance="db-1"))
    assert payload["status"] == "firing"
    # Without from_alert: the Watchdog's trigger, and the group's roster.
    assert [r["action"] for r in _requests(payload)] == ["trigger", "update"]
    split = _split(payload)
    assert split.payload["status"] == "resolved"
    assert [r["action"] for r in _requests(split.payload)] == ["resolve"]


def test_an_alert_must_match_every_matcher() -> None:
    strict = Heartbeat(
        name="prod",
        interval=60,
        producer="alertmanager",
        from_alert=(parse_matcher('alertname="Watchdog"'), parse_matcher('env="prod"')),
    )
    staging = _payload(_alert("Watchdog", env="staging"))
    split = _split(staging, strict)
    assert split.beaten == ()
    assert split.payload == staging
    triggers = [r for r in _requests(split.payload) if r["action"] == "trigger"]
    assert [r["title"] for r in triggers] == ["Watchdog summary"]
    assert _split(_payload(_alert("Watchdog", env="prod")), strict).beaten == ("prod",)
    # A negative matcher holds for an absent label, as in Alertmanager.
    unset = Heartbeat(
        name="unset",
        interval=60,
        producer="alertmanager",
        from_alert=(parse_matcher('alertname="Watchdog"'), parse_matcher('env!="staging"')),
    )
    assert _split(_payload(_alert("Watchdog")), unset).beaten == ("unset",)


def test_one_alert_beats_every_heartbeat_it_matches_once() -> None:
    other = Heartbeat(
        name="alertmanager",
        interval=60,
        producer="alertmanager",
        from_alert=(parse_matcher('alertname=~"Watch.*"'),),
    )
    split = _split(_payload(_alert("Watchdog", a="1"), _alert("Watchdog", a="2")), WATCHDOG, other)
    assert split.beaten == ("prometheus", "alertmanager")


def test_heartbeats_without_from_alert_take_nothing() -> None:
    plain = Heartbeat(name="backup", interval=60, producer="alertmanager")
    payload = _payload(_alert("Watchdog"))
    split = _split(payload, plain)
    assert split.beaten == () and split.payload == payload
    assert _split(payload, *()).beaten == ("prometheus",)  # the default: WATCHDOG
    none = split_beats(payload, ALERTMANAGER, ())
    assert isinstance(none, Beats) and none.beaten == () and none.payload == payload


def test_an_invalid_payload_beats_nothing() -> None:
    payload = _payload(_alert("Watchdog"), {"status": "firing", "labels": {}})
    out = split_beats(payload, ALERTMANAGER, (WATCHDOG,))
    assert isinstance(out, Invalid)
    assert "alerts[1].fingerprint: a non-empty string is required" in out.problems


def test_grafana_payloads_beat_too() -> None:
    grafana: dict[str, Any] = json.loads((FIXTURES / "grafana_docs_example.json").read_text())
    watchdog = copy.deepcopy(grafana)
    watchdog["alerts"][0]["labels"]["alertname"] = "Watchdog"
    out = split_beats(watchdog, GRAFANA, (WATCHDOG,))
    assert isinstance(out, Beats) and out.beaten == ("prometheus",)
    untouched = split_beats(grafana, GRAFANA, (WATCHDOG,))
    assert isinstance(untouched, Beats) and untouched.beaten == ()
    assert untouched.payload == grafana
