"""Reloads one at a time: a slow reload that read older files never activates them last."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from notifierd import active as active_module
from notifierd.active import ConfigHolder
from notifierd.reloads import Reloads
from tests.unit.config_repo import MINIMAL_ROUTES


def write_routes(root: Path, default_channel: str) -> None:
    routes = MINIMAL_ROUTES.replace(
        "  - name: default\n    channels: [ops-slack]",
        f"  - name: default\n    channels: [{default_channel}]",
    )
    (root / "routes.yaml").write_text(routes)


def default_route_channels(holder: ConfigHolder) -> tuple[str, ...]:
    [route] = [r for r in holder.active.snapshot.routes if r.name == "default"]
    return tuple(route.channels)


async def test_a_slow_reload_of_older_files_does_not_finish_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_routes(tmp_path, "ops-slack")
    holder = ConfigHolder.load(tmp_path)
    reloads = Reloads(holder)
    validate = active_module.validate_repository
    first_read = threading.Event()
    calls = 0

    def slow_first(root: Path) -> Any:
        nonlocal calls
        calls += 1
        result = validate(root)  # reads the files as they are now
        if calls == 1:
            first_read.set()
            time.sleep(0.5)  # ... and takes its time before the swap
        return result

    monkeypatch.setattr(active_module, "validate_repository", slow_first)
    write_routes(tmp_path, "ops-email")  # version 2 on disk: the file watcher asks for a reload
    watcher = asyncio.create_task(reloads.reload("files changed"))
    await asyncio.to_thread(first_read.wait, 5)
    write_routes(tmp_path, "pager")  # version 3, merged while version 2 is still validating
    sighup = asyncio.create_task(reloads.reload("SIGHUP"))
    http = asyncio.create_task(reloads.reload("HTTP"))  # asked at the same time: one more run
    assert await asyncio.gather(watcher, sighup, http) == [True, True, True]
    assert default_route_channels(holder) == ("pager",)  # the newest, not version 2
    assert calls == 2  # SIGHUP and HTTP shared the run that began after they asked


async def test_a_reload_asked_during_a_run_gets_a_run_that_read_the_files_after_it_asked(
    tmp_path: Path,
) -> None:
    write_routes(tmp_path, "ops-slack")
    holder = ConfigHolder.load(tmp_path)
    reloads = Reloads(holder)
    assert await reloads.reload("nothing changed") is False
    write_routes(tmp_path, "pager")
    assert await reloads.reload("changed") is True
    assert default_route_channels(holder) == ("pager",)
