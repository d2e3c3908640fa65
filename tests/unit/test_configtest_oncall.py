"""Config test cases that assert who is on call for a schedule at a time."""

from __future__ import annotations

from pathlib import Path

from notifierd.configtest import load_cases
from tests.unit.test_configtest import invoke, repo, run_one, write

__all__ = ["repo"]  # the fixture: a copy of the shipped config without its tests

HANDOFF = """\
cases:
  - name: handoff
    oncall:
      - {schedule: on-call-primary, at: 2026-12-14T07:59:00Z, person: alice}
      - {schedule: "@on-call-primary", at: 2026-12-14T08:00:00Z, person: bob}
"""


def test_a_handoff_and_an_override_pass(repo: Path) -> None:
    assert run_one(repo, HANDOFF) == []
    at_christmas = """\
cases:
  - name: holiday swap
    at: 2026-12-25T12:00:00Z
    oncall: [{schedule: schedule:on-call-primary, person: dave}]
"""
    assert run_one(repo, at_christmas) == []


def test_the_wrong_person_fails_at_the_check_saying_who_is_on_call(repo: Path) -> None:
    text = HANDOFF.replace("person: bob", "person: carol")
    assert run_one(repo, text) == [
        "5: expected carol on call for on-call-primary at 2026-12-14T08:00:00Z, got bob "
        "(layer weekly, 2026-12-14T08:00:00Z → 2026-12-21T08:00:00Z)"
    ]
    code, out = invoke(repo)
    assert code == 1 and "✗ handoff" in out


def test_an_unknown_schedule_fails_naming_the_schedules(repo: Path) -> None:
    text = HANDOFF.replace("schedule: on-call-primary,", "schedule: primary,")
    assert run_one(repo, text) == [
        "4: no schedule 'primary' (an id or a handle); schedules: on-call-primary, "
        "on-call-secondary"
    ]


def test_a_check_without_a_time_or_a_case_with_nothing_to_check_is_refused(repo: Path) -> None:
    write(repo, "cases:\n  - name: now\n    oncall: [{schedule: on-call-primary, person: bob}]\n")
    cases, problems = load_cases(repo)
    assert cases == []
    assert [(p.line, p.message) for p in problems] == [
        (
            3,
            "case 'now': an on-call check needs a time: 'at' on the check or on the case (who is "
            "on call changes; 'now' would make the test flaky)",
        )
    ]
    write(repo, "cases:\n  - name: empty\n    at: 2026-12-14T08:00:00Z\n")
    _, problems = load_cases(repo)
    assert len(problems) == 1 and "oncall" in problems[0].message
