"""`notifierd diff` lists the periods ahead in which a change puts someone else on call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from notifierd.cli.diff import diff
from notifierd.diff.oncall import oncall_changes
from tests.unit.config_repo import write_repo
from tests.unit.test_schedule_config import PRIMARY, ROUTES
from tests.unit.test_schedule_diff import snapshot

DEC_20 = datetime(2026, 12, 20, tzinfo=UTC)
NO_HOLIDAY_SWAP = PRIMARY.replace(
    "  - {person: dave, from: 2026-12-24T00:00, until: 2026-12-27T00:00, reason: holiday swap}\n",
    "",
)


def test_an_override_shows_who_it_replaces_in_the_schedules_time(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old", NO_HOLIDAY_SWAP)
    new = snapshot(tmp_path / "new", PRIMARY)
    # carol's week, with erin in office hours on Thursday and Friday, both replaced by dave.
    assert [str(c) for c in oncall_changes(old, new, DEC_20)] == [
        "primary, Dec 24 00:00 → Dec 24 09:00: carol → dave",
        "primary, Dec 24 09:00 → Dec 24 17:00: erin → dave",
        "primary, Dec 24 17:00 → Dec 25 09:00: carol → dave",
        "primary, Dec 25 09:00 → Dec 25 17:00: erin → dave",
        "primary, Dec 25 17:00 → Dec 27 00:00: carol → dave",
    ]
    [first, *_] = oncall_changes(old, new, DEC_20)
    assert first.as_json() == {
        "schedule": "primary",
        "timezone": "Europe/Berlin",
        "from": "2026-12-23T23:00:00Z",
        "until": "2026-12-24T08:00:00Z",
        "old": "carol",
        "new": "dave",
    }


def test_only_the_window_ahead_is_compared(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old", NO_HOLIDAY_SWAP)
    new = snapshot(tmp_path / "new", PRIMARY)
    assert oncall_changes(old, new, DEC_20 + timedelta(days=7)) == []
    assert oncall_changes(old, new, DEC_20 - timedelta(days=14)) == []  # ends Dec 20
    cut = oncall_changes(old, new, DEC_20 + timedelta(days=5, hours=12))  # Dec 25 12:00 UTC
    assert [str(c) for c in cut] == [
        "primary, Dec 25 13:00 → Dec 25 17:00: erin → dave",
        "primary, Dec 25 17:00 → Dec 27 00:00: carol → dave",
    ]


def test_a_rotation_change_lists_the_weeks_it_swaps(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old", NO_HOLIDAY_SWAP)
    same = snapshot(tmp_path / "same", NO_HOLIDAY_SWAP)
    assert oncall_changes(old, same, DEC_20) == []
    swapped = NO_HOLIDAY_SWAP.replace("[alice, bob, carol]", "[alice, carol, bob]")
    changes = oncall_changes(old, snapshot(tmp_path / "new", swapped), DEC_20)
    # bob's week (to Monday Dec 21 09:00) becomes carol's and carol's bob's; erin's office
    # hours stay hers, so that week is cut around them.
    assert str(changes[0]) == "primary, Dec 20 01:00 → Dec 21 09:00: bob → carol"
    assert str(changes[1]) == "primary, Dec 21 17:00 → Dec 22 09:00: carol → bob"
    assert {(c.old, c.new) for c in changes} <= {("bob", "carol"), ("carol", "bob")}


def test_the_cli_lists_them_beside_the_structural_diff(tmp_path: Path) -> None:
    old = write_repo(
        tmp_path / "old", {"routes.yaml": ROUTES, "schedules/primary.yaml": NO_HOLIDAY_SWAP}
    )
    new = write_repo(tmp_path / "new", {"routes.yaml": ROUTES, "schedules/primary.yaml": PRIMARY})
    args = [str(old), str(new), "--at", "2026-12-20T00:00:00Z"]
    result = CliRunner().invoke(diff, [*args, "--exit-code"])
    assert result.exit_code == 1, result.output
    assert "schedule 'primary' changed" in result.output
    assert (
        "who is on call changes in the 14 days from 2026-12-20T00:00:00Z:\n"
        "  primary, Dec 24 00:00 → Dec 24 09:00: carol → dave\n"
    ) in result.output
    markdown = CliRunner().invoke(diff, [*args, "--format", "markdown"]).output
    assert "- primary, Dec 25 17:00 → Dec 27 00:00: carol → dave" in markdown
    report = json.loads(CliRunner().invoke(diff, [*args, "--format", "json"]).output)
    assert report["oncall"]["from"] == "2026-12-20T00:00:00Z"
    assert [c["new"] for c in report["oncall"]["changed"]] == ["dave"] * 5
    later = CliRunner().invoke(diff, [str(old), str(new), "--at", "2027-01-04T00:00:00Z"])
    assert "who is on call: no change in the 14 days from 2027-01-04T00:00:00Z" in later.output
