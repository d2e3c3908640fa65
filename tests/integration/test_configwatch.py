"""config_changes follows a config path whose symlink is swapped, swap after swap, as well as
the files under it (watchfiles on a real file system: inotify)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from notifierd.configwatch import config_changes


def revision(root: Path, name: str) -> None:
    (root / name).mkdir()
    (root / name / "routes.yaml").write_text(f"# {name}\n")


def publish(root: Path, name: str) -> None:
    """Point ``root/current`` at ``name`` with one rename, as git-sync does."""
    (root / "current.tmp").symlink_to(name)
    os.rename(root / "current.tmp", root / "current")


async def test_follows_the_link_and_the_files_under_it(tmp_path: Path) -> None:
    revision(tmp_path, "one")
    publish(tmp_path, "one")
    stopping = asyncio.Event()
    reasons: asyncio.Queue[str] = asyncio.Queue()

    async def watch() -> None:
        async for why in config_changes(tmp_path / "current", stopping, poll=0.1):
            await reasons.put(why)

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.sleep(0.5)  # the inotify watch is in place
        for name in ("two", "three"):  # the old one kept: no deletion event to give it away
            revision(tmp_path, name)
            publish(tmp_path, name)
            why = await asyncio.wait_for(reasons.get(), 5)
            assert why.endswith(str(tmp_path / name)), why
        # And a change in the revision now current is seen as one.
        await asyncio.sleep(0.5)
        (tmp_path / "three" / "routes.yaml").write_text("# edited\n")
        why = await asyncio.wait_for(reasons.get(), 5)
        assert why == "files changed: routes.yaml"
    finally:
        stopping.set()
        await asyncio.wait_for(watcher, 5)
