"""Heartbeats in routes.yaml: what validate says of them (path:line:col), the snapshot they
become, the beat request, and config tests routing a heartbeat's alert."""

from __future__ import annotations

from pathlib import Path

from notifierd.configtest import load_cases, run_case
from notifierd.intake.parse import Rejection, parse_request
from notifierd.routing.router import Router
from notifierd.templates import TemplateCatalog
from tests.unit.config_repo import MINIMAL_ROUTES, findings, validate

HEARTBEATS = """\
producers:
  backup: {token: "${BACKUP_TOKEN}"}
heartbeats:
  - name: nightly-backup
    interval: 1d
    grace: 30m
    producer: backup
    severity: warning
    labels: {team: storage}
  - name: cron
    interval: 5m
    producer: anonymous
"""


def test_heartbeats_become_part_of_the_snapshot(tmp_path: Path) -> None:
    result = validate(tmp_path, {"routes.yaml": MINIMAL_ROUTES + HEARTBEATS})
    assert result.problems == []
    assert result.snapshot is not None
    backup = result.snapshot.heartbeats["nightly-backup"]
    assert (backup.interval, backup.grace, backup.allowed) == (86400, 1800, 88200)
    assert (backup.producer, backup.severity, dict(backup.labels)) == (
        "backup",
        "warning",
        {"team": "storage"},
    )
    cron = result.snapshot.heartbeats["cron"]
    assert (cron.grace, cron.severity, cron.dedup_key) == (0, "critical", "heartbeat:cron")


def test_validate_locates_every_heartbeat_problem(tmp_path: Path) -> None:
    bad = HEARTBEATS.replace("producer: backup", "producer: backups").replace(
        "interval: 5m", "interval: 0s"
    )
    bad += "  - {name: cron, interval: 1 hour, producer: anonymous}\n"
    first = MINIMAL_ROUTES.count("\n") + 1  # the line 'producers:' is on
    assert findings(tmp_path, {"routes.yaml": MINIMAL_ROUTES + bad}) == [
        f"routes.yaml:{first + 12}:28: 'interval': invalid value string '1 hour': use a number "
        "and a unit (ms, s, m, h, d, w), e.g. 30s, 15m or 1h30m",
        f"routes.yaml:{first + 6}:15: unknown producer 'backups' (did you mean 'backup'?): a "
        "heartbeat is beaten by a producer from producers: (or 'anonymous', the default queue)",
        f"routes.yaml:{first + 10}:15: a heartbeat's interval must be longer than 0s",
        f"routes.yaml:{first + 12}:12: duplicate heartbeat name 'cron' (first used at line "
        f"{first + 9}); heartbeat names must be unique",
    ]


def test_a_beat_is_a_request_naming_its_heartbeat() -> None:
    beat = parse_request(b'{"kind": "heartbeat", "name": "cron"}', producer="backup")
    assert not isinstance(beat, Rejection)
    assert (beat.kind, beat.name, beat.producer) == ("heartbeat", "cron", "backup")
    nameless = parse_request(b'{"kind": "heartbeat"}')
    assert isinstance(nameless, Rejection)


def test_config_tests_route_a_heartbeats_alert(tmp_path: Path) -> None:
    routes = MINIMAL_ROUTES.replace(
        "routes:\n",
        "routes:\n  - name: storage\n    matchers: ['heartbeat=\"nightly-backup\"']\n"
        "    channels: [ops-email]\n",
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "heartbeats.yaml").write_text(
        "cases:\n"
        "  - name: backup late\n"
        "    heartbeat: nightly-backup\n"
        "    expect: {routes: [storage], channels: [ops-email]}\n"
        "  - name: cron late\n"
        "    heartbeat: cron\n"
        "    expect: {routes: [critical], escalation: null}\n"
        "  - name: no such heartbeat\n"
        "    heartbeat: hourly\n"
        "    expect: {routes: [default]}\n"
    )
    result = validate(tmp_path, {"routes.yaml": routes + HEARTBEATS})
    snapshot = result.snapshot
    assert snapshot is not None, result.problems
    cases, problems = load_cases(tmp_path)
    assert problems == []
    results = [run_case(snapshot, Router(snapshot), TemplateCatalog(snapshot), c) for c in cases]
    assert [(r.error, r.failures) for r in results[:2]] == [(None, []), (None, [])]
    assert results[2].error == (
        "LookupError: no heartbeat named 'hourly' (heartbeats: cron, nightly-backup)"
    )


def test_a_case_names_a_request_or_a_heartbeat_not_both(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "both.yaml").write_text(
        "cases:\n"
        "  - name: both\n"
        "    heartbeat: cron\n"
        "    request: {title: t}\n"
        "    expect: {routes: [default]}\n"
    )
    cases, problems = load_cases(tmp_path)
    assert cases == []
    assert [p.message for p in problems] == [
        "'cases': a case has either a 'request' or a 'heartbeat', exactly one of them"
    ]
