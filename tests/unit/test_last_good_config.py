"""The last good config: the supervisor's copy of what validated, and a worker that starts from
it while the files on disk are broken (then catches up by reloading them once fixed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifierd.active import ConfigHolder
from notifierd.config.problems import ConfigInvalid, Problem
from notifierd.lastgood import LastGoodConfig
from notifierd.validation import validate_repository
from tests.unit.test_reloads import default_route_channels, write_routes

BROKEN = "routes: [{name: broken\n"


def validate(root: Path) -> list[Problem]:
    return validate_repository(root, with_git=False).errors


def test_the_copy_keeps_the_last_valid_files_while_the_config_is_broken(tmp_path: Path) -> None:
    source = tmp_path / "config"
    source.mkdir()
    write_routes(source, "ops-slack")
    with LastGoodConfig(source, validate) as last_good:
        assert last_good.refresh() == []
        write_routes(source, "pager")
        assert last_good.refresh() == []
        kept = (last_good.path / "routes.yaml").read_text()
        assert "channels: [pager]" in kept

        (source / "routes.yaml").write_text(BROKEN)
        assert last_good.refresh() != []
        assert last_good.refresh() != []  # still broken: still said so
        assert (last_good.path / "routes.yaml").read_text() == kept

        write_routes(source, "ops-slack")
        assert last_good.refresh() == []
        assert "channels: [ops-slack]" in (last_good.path / "routes.yaml").read_text()
        copy = last_good.path
    assert not copy.exists()  # removed with the supervisor


def test_a_change_is_checked_once_the_files_have_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first look checks at once (the supervisor refuses a bad config before any worker
    starts); a change waits until the files stayed as they are for ``settle`` seconds, so the
    check does not take CPU from the workers' own reload of it."""
    now = [1000.0]
    monkeypatch.setattr("notifierd.lastgood.time.monotonic", lambda: now[0])
    checked: list[Path] = []

    def counted(root: Path) -> list[Problem]:
        checked.append(root)
        return validate(root)

    source = tmp_path / "config"
    source.mkdir()
    write_routes(source, "ops-slack")
    with LastGoodConfig(source, counted, settle=5.0) as last_good:
        assert last_good.refresh() == [] and len(checked) == 1
        (source / "routes.yaml").write_text(BROKEN)
        now[0] += 1
        assert last_good.refresh() == [] and len(checked) == 1  # not settled: the last answer
        now[0] += 3
        (source / "routes.yaml").write_text(BROKEN + "# edited again\n")
        now[0] += 3
        assert last_good.refresh() == [] and len(checked) == 1  # changed again: seen anew
        now[0] += 4.5
        assert last_good.refresh() == [] and len(checked) == 1
        now[0] += 0.5
        assert last_good.refresh() != [] and len(checked) == 2
        assert "channels: [ops-slack]" in (last_good.path / "routes.yaml").read_text()


def test_a_config_broken_from_the_start_has_no_copy(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(BROKEN)
    with LastGoodConfig(tmp_path, validate) as last_good:
        assert last_good.refresh() != []
        assert not last_good.has_copy


def test_a_worker_starts_from_the_last_good_copy_and_reloads_the_real_files_once_fixed(
    tmp_path: Path,
) -> None:
    config, copy = tmp_path / "config", tmp_path / "copy"
    config.mkdir()
    copy.mkdir()
    write_routes(copy, "ops-slack")
    (config / "routes.yaml").write_text(BROKEN)
    with pytest.raises(ConfigInvalid):  # a cold start still refuses
        ConfigHolder.load(config)

    holder = ConfigHolder.load(config, fallback=copy)
    assert default_route_channels(holder) == ("ops-slack",)
    assert holder.last_problems  # POST /-/reload says why the files on disk are not active

    write_routes(config, "pager")
    assert holder.reload()
    assert default_route_channels(holder) == ("pager",)
    assert holder.last_problems == []
