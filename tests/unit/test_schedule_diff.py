"""`notifierd diff` shows what a change does to a schedule, like every other config part."""

from __future__ import annotations

from pathlib import Path

from notifierd.config.model import Snapshot
from notifierd.diff.structure import diff_snapshots
from tests.unit.config_repo import validate
from tests.unit.test_schedule_config import PRIMARY, ROUTES


def snapshot(root: Path, schedule: str) -> Snapshot:
    result = validate(root, {"routes.yaml": ROUTES, "schedules/primary.yaml": schedule})
    assert result.snapshot is not None, [str(p) for p in result.problems]
    return result.snapshot


def test_a_changed_override_and_layer_are_listed(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old", PRIMARY)
    new = snapshot(
        tmp_path / "new",
        PRIMARY.replace("person: dave", "person: alice").replace(
            "[alice, bob, carol]", "[bob, carol]"
        ),
    )
    [change] = [c for c in diff_snapshots(old, new) if c.kind == "schedule"]
    text = str(change)
    assert text.startswith("schedule 'primary' changed")
    assert "bob, carol every 1w from 2026-01-05T09:00" in text
    assert "alice 2026-12-23T23:00Z → 2026-12-26T23:00Z (holiday swap)" in text


def test_an_added_schedule_is_listed(tmp_path: Path) -> None:
    old = validate(tmp_path / "old", {"routes.yaml": ROUTES}).snapshot
    assert old is not None
    new = snapshot(tmp_path / "new", PRIMARY)
    assert [(c.kind, c.name, c.what) for c in diff_snapshots(old, new)] == [
        ("schedule", "primary", "added")
    ]
