"""Alertmanager and Grafana webhook payloads as our requests (notifierd.intake.webhooks)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from notifierd.intake.parse import Rejection, parse_request
from notifierd.intake.storm import StormLimit, fold
from notifierd.intake.webhooks import ALERTMANAGER, GRAFANA, Invalid, Translated, translate
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"


def payload(name: str = "alertmanager_group.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def requests(data: Any, **kwargs: Any) -> list[dict[str, Any]]:
    dialect = kwargs.pop("dialect", ALERTMANAGER)
    out = translate(data, dialect, **kwargs)
    assert isinstance(out, Translated), out
    return list(out.requests)


def problems(data: Any) -> list[str]:
    out = translate(data, ALERTMANAGER)
    assert isinstance(out, Invalid)
    return list(out.problems)


def test_one_alert_per_group_keyed_by_the_group_key() -> None:
    first, second, _ = requests(payload())
    assert first["kind"] == second["kind"] == "alert"
    assert first["action"] == second["action"] == "trigger"
    assert first["dedup_key"] == second["dedup_key"] == 'am:{}:{alertname="DiskFull"}'
    assert first["id"] != second["id"]
    assert first["source"] == "alertmanager"


def test_every_request_is_one_the_daemon_accepts() -> None:
    for request in requests(payload()) + requests(
        payload("grafana_docs_example.json"), dialect=GRAFANA
    ):
        assert not isinstance(parse_request(json.dumps(request).encode()), Rejection)


def test_labels_become_labels_and_a_severity_of_ours_becomes_the_severity() -> None:
    first, second, _ = requests(payload())
    assert first["severity"] == "critical"
    assert first["labels"] == {"alertname": "DiskFull", "instance": "db-1", "team": "storage"}
    # "page" is none of ours: no severity, and the label stays.
    assert "severity" not in second
    assert second["labels"]["severity"] == "page"


def test_title_is_the_summary_else_the_alert_name() -> None:
    first, second, _ = requests(payload())
    assert first["title"] == "Disk full on db-1"
    assert second["title"] == "DiskFull"


def test_description_and_urls_go_into_the_message_and_context() -> None:
    first, *_ = requests(payload())
    assert "/var is 99% full" in first["message"]
    assert "http://prometheus:9090/graph?g0.expr=disk_free%3C0.01" in first["message"]
    assert "http://alertmanager:9093" in first["message"]
    context = first["context"]["alertmanager"]
    assert context["generator_url"].startswith("http://prometheus:9090/")
    assert context["external_url"] == "http://alertmanager:9093"
    assert context["fingerprint"] == "1a2b3c4d5e6f7081"
    assert context["group_key"] == '{}:{alertname="DiskFull"}'


def test_a_resent_payload_has_the_same_ids_and_a_changed_alert_a_new_one() -> None:
    again = requests(payload())
    assert [r["id"] for r in requests(payload())] == [r["id"] for r in again]
    restarted = payload()
    restarted["alerts"][0]["startsAt"] = "2026-11-30T04:00:00Z"  # fired again: a new alert
    assert requests(restarted)[0]["id"] != again[0]["id"]
    assert requests(restarted)[1]["id"] == again[1]["id"]


def test_a_firing_group_ends_with_its_roster_once() -> None:
    first, second, roster = requests(payload())
    assert (first["action"], second["action"], roster["action"]) == ("trigger", "trigger", "update")
    assert roster["dedup_key"] == first["dedup_key"] == 'am:{}:{alertname="DiskFull"}'
    assert roster["members"] == [
        {"key": "1a2b3c4d5e6f7081@2026-11-30T03:00:00.123Z", "title": "DiskFull on db-1",
         "status": "firing"},
        {"key": "9f8e7d6c5b4a3928@2026-11-30T03:01:00Z", "title": "DiskFull on db-2",
         "status": "firing"},
    ]  # fmt: skip
    # Only the roster says who else is in the group: no member's request grows with it.
    assert "members" not in first and "members" not in second
    # Per alert, an alert is its own roster: none is said.
    assert all("members" not in r for r in requests(payload(), per_alert=True))


def test_a_member_resolving_in_a_firing_group_is_a_new_roster() -> None:
    firing = requests(payload())[-1]
    data = payload()
    data["alerts"][0]["status"] = "resolved"
    still, roster = requests(data)
    assert still["action"] == "trigger" and still["labels"]["instance"] == "db-2"
    assert roster["action"] == "update" and roster["id"] != firing["id"]
    assert [m["status"] for m in roster["members"]] == ["resolved", "firing"]
    # A re-send is the same roster, so the same request; another change is another one.
    assert requests(copy.deepcopy(data))[-1]["id"] == roster["id"]
    data["alerts"][1]["status"] = "resolved"
    data["alerts"].append({**data["alerts"][1], "fingerprint": "77", "status": "firing"})
    assert requests(data)[-1]["id"] != roster["id"]
    assert not isinstance(parse_request(json.dumps(roster).encode()), Rejection)


def test_the_group_resolves_once_with_its_last_member() -> None:
    data = payload()
    data["status"] = "resolved"
    for alert in data["alerts"]:
        alert["status"] = "resolved"
    [resolve] = requests(data)
    assert resolve["action"] == "resolve"
    assert resolve["dedup_key"] == 'am:{}:{alertname="DiskFull"}'
    assert [r["id"] for r in requests(copy.deepcopy(data))] == [resolve["id"]]
    # The same group firing and resolving again later (new startsAt) is a new resolve.
    data["alerts"][0]["startsAt"] = "2026-11-30T05:00:00Z"
    assert requests(data)[0]["id"] != resolve["id"]


def test_per_alert_mode_keys_each_alert_by_fingerprint_and_start() -> None:
    first, second = requests(payload(), per_alert=True)
    assert first["dedup_key"] == "am:1a2b3c4d5e6f7081@2026-11-30T03:00:00.123Z"
    assert second["dedup_key"] == "am:9f8e7d6c5b4a3928@2026-11-30T03:01:00Z"
    data = payload()
    data["alerts"][0]["status"] = "resolved"
    resolve, trigger = requests(data, per_alert=True)
    assert (resolve["action"], resolve["dedup_key"]) == ("resolve", first["dedup_key"])
    assert trigger["action"] == "trigger"
    # A resolve and a trigger of the same alert are different requests.
    assert resolve["id"] != first["id"]


def test_a_long_group_key_is_hashed_into_a_dedup_key_that_fits() -> None:
    data = payload()
    data["groupKey"] = "{}:{" + "x" * 400 + "}"
    [first, _, _] = requests(data)
    assert len(first["dedup_key"]) <= 255 and first["dedup_key"].startswith("am:sha256:")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(version="3"), "version: alertmanager webhook payload version '4'"),
        (lambda d: d.pop("version"), "got None"),
        (lambda d: d["alerts"][1].pop("fingerprint"), "alerts[1].fingerprint"),
        (lambda d: d["alerts"][0].update(status="pending"), "alerts[0].status"),
        (lambda d: d["alerts"][0].update(labels=["x"]), "alerts[0].labels"),
        (lambda d: d.update(alerts={}), "alerts: a list is required"),
        (lambda d: d.update(groupKey=""), "groupKey"),
    ],
)
def test_a_bad_payload_is_refused_with_the_reason(change: Any, expected: str) -> None:
    data = payload()
    change(data)
    assert any(expected in p for p in problems(data)), problems(data)


def test_a_payload_that_is_no_object_is_refused() -> None:
    assert problems([1, 2]) == ["the payload must be a JSON object"]


def test_grafana_documentation_example() -> None:
    first, second, _ = requests(payload("grafana_docs_example.json"), dialect=GRAFANA)
    assert first["source"] == second["source"] == "grafana"
    assert first["dedup_key"] == second["dedup_key"] == "grafana:{}:{}"
    assert first["title"] == "This alert was triggered for zone us-1"
    assert first["labels"] == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert "The system has high memory usage" in first["message"]
    context = first["context"]["grafana"]
    assert context["silenceURL"].startswith("https://play.grafana.org/alerting/silence/")
    assert context["values"] == {"B": 44.23943737541908, "C": 1}
    assert first["id"].startswith("grafana-")
    # Grafana's payload version is "1"; Alertmanager's "4" is refused here.
    wrong = payload("grafana_docs_example.json")
    wrong["version"] = "4"
    assert isinstance(translate(wrong, GRAFANA), Invalid)


def test_a_storm_limit_is_a_positive_whole_number(tmp_path: Path) -> None:
    route = "    channels: [ops-slack, pager]\n"
    assert route in MINIMAL_ROUTES
    good = MINIMAL_ROUTES.replace(route, route + "    max_new_alerts_per_minute: 20\n", 1)
    result = validate(tmp_path / "good", {"routes.yaml": good})
    assert result.snapshot is not None
    assert result.snapshot.routes[0].max_new_alerts_per_minute == 20
    bad = MINIMAL_ROUTES.replace(route, route + "    max_new_alerts_per_minute: 0\n", 1)
    [problem] = findings(tmp_path / "bad", {"routes.yaml": bad})
    assert "max_new_alerts_per_minute" in problem


def test_a_folded_alert_joins_its_routes_summary_and_keeps_its_words() -> None:
    first, *_ = requests(payload())
    folded = fold(first, StormLimit("infra", 20))
    assert folded["id"] == first["id"] and folded["severity"] == "critical"
    assert folded["dedup_key"] == "storm:infra"
    assert folded["title"] == "Alert storm on route infra: more than 20 new alerts a minute"
    assert folded["message"].startswith("First folded: Disk full on db-1\n/var is 99% full")
    assert folded["labels"] == {**first["labels"], "storm_route": "infra"}
