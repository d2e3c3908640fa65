"""`notifierd oncall`: who is on call, the next shifts, a person's shifts, JSON and iCalendar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from notifierd.cli.oncall import oncall
from tests.unit.config_repo import write_repo
from tests.unit.test_schedule_config import PRIMARY, ROUTES

SECONDARY = """\
timezone: America/New_York
handle: on-call-secondary
layers:
  - {name: daily, members: [carol, dave], rotation: 1d, start: 2026-01-01T08:00}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path,
        {
            "routes.yaml": ROUTES,
            "schedules/primary.yaml": PRIMARY,
            "schedules/secondary.yaml": SECONDARY,
        },
    )


def run(repo: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(oncall, [*args, "--config", str(repo)], env={"COLUMNS": "200"})
    # Not result.output, which turns CRLF into LF.
    return result.exit_code, result.stdout_bytes.decode() + result.stderr_bytes.decode()


def as_json(repo: Path, *args: str) -> dict:  # type: ignore[type-arg]
    code, out = run(repo, *args, "--format", "json")
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def test_who_is_on_call_everywhere_at_a_time(repo: Path) -> None:
    report = as_json(repo, "--at", "2026-12-24T12:00:00Z")
    assert [(r["schedule"], r["person"], r["start"], r["end"]) for r in report["on_call"]] == [
        ("primary", "dave", "2026-12-23T23:00:00Z", "2026-12-26T23:00:00Z"),
        ("secondary", "carol", "2026-12-23T13:00:00Z", "2026-12-24T13:00:00Z"),
    ]
    assert report["on_call"][0]["source"] == {"kind": "override", "reason": "holiday swap"}


def test_a_schedule_is_named_by_id_or_handle(repo: Path) -> None:
    for name in ("primary", "on-call-primary", "@on-call-primary", "schedule:primary"):
        report = as_json(repo, name, "--at", "2026-01-06T12:00:00Z")
        assert [(r["schedule"], r["person"]) for r in report["on_call"]] == [("primary", "erin")], (
            name
        )


def test_an_unknown_schedule_is_a_usage_error(repo: Path) -> None:
    code, out = run(repo, "on-call-primry")
    assert code == 2
    assert "no schedule 'on-call-primry' (did you mean 'on-call-primary'?)" in out


def test_the_table_says_who_and_until_when_in_local_time(repo: Path) -> None:
    code, out = run(repo, "primary", "--at", "2026-12-24T12:00:00Z")
    assert code == 0, out
    assert "dave" in out and "Sun 2026-12-27 00:00 CET" in out and "holiday swap" in out


def test_next_lists_the_shifts_with_the_current_one_from_its_start(repo: Path) -> None:
    report = as_json(repo, "secondary", "--at", "2026-03-07T20:00:00Z", "--next", "2d")
    assert [(r["person"], r["start"], r["end"]) for r in report["shifts"]] == [
        ("dave", "2026-03-07T13:00:00Z", "2026-03-08T12:00:00Z"),  # 08:00 EST, then 08:00 EDT
        ("carol", "2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"),
        ("dave", "2026-03-09T12:00:00Z", "2026-03-10T12:00:00Z"),  # its real end, not --next's
    ]


def test_one_persons_shifts_across_schedules(repo: Path) -> None:
    report = as_json(repo, "--person", "dave", "--at", "2026-12-22T00:00:00Z", "--next", "4d")
    assert [(r["schedule"], r["start"], r["end"]) for r in report["shifts"]] == [
        ("secondary", "2026-12-22T13:00:00Z", "2026-12-23T13:00:00Z"),
        ("primary", "2026-12-23T23:00:00Z", "2026-12-26T23:00:00Z"),  # beyond --next: its end
        ("secondary", "2026-12-24T13:00:00Z", "2026-12-25T13:00:00Z"),
    ]


def test_an_unknown_person_is_a_usage_error(repo: Path) -> None:
    code, out = run(repo, "--person", "davе")  # a Cyrillic e
    assert code == 2 and "unknown person" in out


def _unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", "")  # every line ends in CRLF
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_ics_export_is_rfc_5545(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "primary.ics"
    code, output = run(
        repo, "primary", "--at", "2026-12-21T12:00:00Z", "--next", "7d", "--ics", str(out)
    )
    assert code == 0, output
    raw = out.read_bytes().decode()
    assert all(len(line.encode()) <= 75 for line in raw.split("\r\n"))
    lines = _unfold(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    events = [i for i, line in enumerate(lines) if line == "BEGIN:VEVENT"]
    assert len(events) == 9  # erin and carol take turns, dave's holiday, carol, erin
    first = lines[events[0] : lines.index("END:VEVENT")]
    assert "DTSTART:20261221T080000Z" in first and "DTEND:20261221T160000Z" in first
    assert "SUMMARY:On call: erin (Primary on-call)" in first
    assert any(line.startswith("DESCRIPTION:") and "\\," not in line for line in first)
    holiday = [line for line in lines if line.startswith("DTSTART:20261223T230000Z")]
    assert holiday


def test_ics_uids_are_stable_across_exports(repo: Path) -> None:
    def uids(at: str) -> dict[str, str]:
        code, out = run(repo, "primary", "--at", at, "--next", "3d", "--ics", "-")
        assert code == 0, out
        lines = _unfold(out)
        return {
            lines[i + 2]: lines[i]  # DTSTART -> UID
            for i, line in enumerate(lines)
            if line.startswith("UID:")
        }

    early, later = uids("2026-12-21T12:00:00Z"), uids("2026-12-22T12:00:00Z")
    shared = set(early) & set(later)
    assert shared and all(early[k] == later[k] for k in shared)
