"""Lint of schedules: gaps ahead, overlapping and past overrides (as of an injected now), and
Slack recipients written as display names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from notifierd.cli.report import line
from notifierd.validation import lint_repository
from tests.unit.config_repo import write_repo
from tests.unit.test_lint import CLEAN_ROUTES
from tests.unit.test_schedule_config import PRIMARY, ROUTES

NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)

# Every channel used, every person reachable: lints clean but for what a test adds.
PEOPLE = ROUTES.split("routes:\n")[0].split("people:\n")[1]
LINT_ROUTES = CLEAN_ROUTES.replace("routes:\n", f"people:\n{PEOPLE}routes:\n", 1).replace(
    "  mallory: {contacts: [{email: mallory@company.com}]}\n", ""
)


def lint_lines(root: Path, files: dict[str, str], now: datetime = NOW) -> list[str]:
    result = lint_repository(write_repo(root, {"routes.yaml": LINT_ROUTES, **files}), now=now)
    assert not result.validation.errors, result.validation.problems
    return [f"{line('', p)} [{p.code}]" for p in result.findings]


def test_a_covered_schedule_lints_clean(tmp_path: Path) -> None:
    assert lint_lines(tmp_path, {"schedules/primary.yaml": PRIMARY}) == []


def test_gaps_in_the_next_14_days_are_a_hint(tmp_path: Path) -> None:
    office_only = PRIMARY.split("  - name: office-hours")[0].replace(
        "  - name: weekly", "  - name: office-hours-only", 1
    )
    office_only = office_only.replace(
        "    start: 2026-01-05T09:00\n",
        '    start: 2026-01-05T09:00\n    restrict: [{days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}]\n',
        1,
    )
    office_only += "fallback: ['#incidents']\n"
    assert lint_lines(tmp_path, {"schedules/primary.yaml": office_only}) == [
        "schedules/primary.yaml:6:3: info: schedule 'primary' has nobody on call in the next 14 "
        "days at Sun 2026-12-20 13:00 CET → Mon 2026-12-21 09:00 CET, Mon 2026-12-21 17:00 CET "
        "→ Tue 2026-12-22 09:00 CET, Tue 2026-12-22 17:00 CET → Wed 2026-12-23 09:00 CET and "
        "8 more; the fallback (#incidents) is paged then [coverage-gap]"
    ]


def test_a_schedule_that_starts_later_has_a_gap_until_then(tmp_path: Path) -> None:
    later = (
        PRIMARY.replace("start: 2026-01-05T09:00", "start: 2026-12-28T09:00")
        .replace("fallback:", "x-fallback:")
        .replace('x-fallback: ["#incidents"]\n', "")
    )
    found = lint_lines(tmp_path, {"schedules/primary.yaml": later})
    assert len(found) == 1
    assert (
        "at Sun 2026-12-20 13:00 CET → Thu 2026-12-24 00:00 CET, Sun 2026-12-27 00:00 CET "
        in found[0]
    )
    assert found[0].endswith(
        "deliveries then reach no one: add a layer or a fallback [coverage-gap]"
    )


def test_overlapping_and_past_overrides_are_hints(tmp_path: Path) -> None:
    text = PRIMARY.replace(
        "fallback:",
        "  - {person: erin, from: 2026-12-26T00:00, until: 2026-12-28T00:00}\n"
        "  - {person: carol, from: 2026-11-01T00:00, until: 2026-11-02T00:00}\nfallback:",
    )
    assert lint_lines(tmp_path, {"schedules/primary.yaml": text}) == [
        "schedules/primary.yaml:18:5: info: override for erin overlaps the override for dave "
        "(line 16); where they overlap this later one wins [overlapping-overrides]",
        "schedules/primary.yaml:19:52: info: override for carol ended at Mon 2026-11-02 00:00 CET "
        "and changes nothing any more; remove it [past-override]",
    ]


def test_lint_moves_with_now(tmp_path: Path) -> None:
    found = lint_lines(
        tmp_path, {"schedules/primary.yaml": PRIMARY}, now=datetime(2027, 2, 1, tzinfo=UTC)
    )
    assert [f.rsplit("[", 1)[1] for f in found] == ["past-override]", "past-override]"]


def test_a_slack_display_name_is_a_warning_unless_the_config_resolves_it(tmp_path: Path) -> None:
    routes = LINT_ROUTES.replace(
        '    recipients: ["#incidents"]\n',
        '    recipients: ["#incidents", "@on-call-primary", "@alice", "@U0123ABC", "@primary",'
        ' "ops-slack:@jane.doe", "@on-call-second"]\n',
    )
    result = lint_repository(
        write_repo(tmp_path, {"routes.yaml": routes, "schedules/primary.yaml": PRIMARY}), now=NOW
    )
    assert not result.validation.errors, result.validation.problems
    found = [f"{line('', p)} [{p.code}]" for p in result.findings]
    tail = (
        ": write the member's Slack id (@U…), a channel (#name, or its id as slack:C…), a person "
        "from people:, or a schedule's handle [slack-display-name]"
    )
    assert found == [
        "routes.yaml:22:75: warning: Slack recipient '@primary' is a display name, and Slack cannot "
        "post to one (it answers channel_not_found) (schedule:primary names the schedule "
        f"'primary'){tail}",
        "routes.yaml:22:87: warning: Slack recipient 'ops-slack:@jane.doe' is a display name, and "
        f"Slack cannot post to one (it answers channel_not_found){tail}",
        "routes.yaml:22:110: warning: Slack recipient '@on-call-second' is a display name, and "
        f"Slack cannot post to one (it answers channel_not_found){tail}",
    ]
