"""Watching the config directory for changes: its files, and where its path leads.

git-sync, deploy/systemd's config pull and ``ln -sfn`` deploys publish a revision by swapping
a symlink that *is* the config directory (or one of its parents). inotify watches the directory
the link led to when the watch began; after a swap that directory is removed or left behind,
and the watch never sees another change. So the watch is on the resolved directory, and when
the path resolves somewhere else the watch starts again there, with a reload. (A kubelet
ConfigMap volume swaps ``..data`` *inside* the directory, which the watch sees as it is.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

# Seconds between looks at where the config path leads: a reload may come this much later
# than a symlink swap, and a look is a few lstat calls.
LINK_POLL = 1.0
DEBOUNCE_MS = 300


async def config_changes(
    root: Path, stopping: asyncio.Event, *, poll: float = LINK_POLL
) -> AsyncIterator[str]:
    """Why to reload (for the log), each time the config under ``root`` may have changed;
    ends when ``stopping`` is set."""
    # The directory watched is the one last reported: resolving again at the top of the loop
    # would miss a swap made between a report and the next watch (the reload triggered by the
    # report may still have read the old revision).
    target = await _resolved(root)
    while not stopping.is_set():
        if target.is_dir():
            async for why in _files_changed(root, target, stopping, poll):
                yield why
        else:  # a swap half done by hand: look again shortly
            await _pause(stopping, poll)
        if stopping.is_set():
            break
        now = await _resolved(root)
        if now != target:
            target = now
            if target.is_dir():
                yield f"{root} now leads to {target}"


async def _files_changed(
    root: Path, target: Path, stopping: asyncio.Event, poll: float
) -> AsyncIterator[str]:
    """Changes to the files under ``target``, until ``root`` leads elsewhere or ``stopping``."""
    # Here, not at the top: watchfiles brings multiprocessing and anyio (~2 MiB a process),
    # which a daemon run with --no-watch never needs.
    from watchfiles import awatch

    moved = asyncio.Event()  # also set on stopping: it is what ends the watch
    follower = asyncio.create_task(_until_moved(root, target, stopping, moved, poll))
    try:
        async for changes in awatch(target, stop_event=moved, debounce=DEBOUNCE_MS, recursive=True):
            names = sorted({Path(p).name for _, p in changes})
            yield f"files changed: {', '.join(names[:5])}"
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def _resolved(root: Path) -> Path:
    # Off the event loop: the config may sit on a network file system.
    return Path(await asyncio.to_thread(os.path.realpath, root))


async def _until_moved(
    root: Path, target: Path, stopping: asyncio.Event, moved: asyncio.Event, poll: float
) -> None:
    try:
        while not stopping.is_set() and await _resolved(root) == target:
            await _pause(stopping, poll)
    finally:
        moved.set()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
