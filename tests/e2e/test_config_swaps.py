"""The config directory swapped whole the way Kubernetes swaps it: the running daemon follows.

A ConfigMap volume is written by the kubelet's atomic writer (``..data`` is a symlink to a
timestamped directory, renamed over in one step); a git-sync sidecar, and deploy/systemd's
config pull, swap a symlink that *is* the config directory. Either way no file in place is
ever written, so these tests make sure the watcher notices the swap, reloads a good config,
refuses a broken one (keeping the last good), and keeps following swap after swap.
"""

from __future__ import annotations

import itertools
import os
import shutil
import textwrap
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import SINK_CONFIG, DaemonProcess
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes import unused_port
from tests.integration.redis_fixtures import RedisPrefix

POLICY = """\
levels:
  - after: 0m
    channels: [sink]
"""
Files = Mapping[str, str]


def config_files(route: str, channel: str = "sink") -> Files:
    """A config repository with a subdirectory (ConfigMap items reach it through a symlink)."""
    routes = textwrap.dedent(SINK_CONFIG).replace("name: default", f"name: {route}")
    routes = routes.replace("channels: [sink]", f"channels: [{channel}]")
    return {"routes.yaml": routes, "policies/page.yaml": POLICY}


def write_files(folder: Path, files: Files) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


class ConfigMapVolume:
    """A directory laid out as the kubelet keeps a ConfigMap volume: the files live in a
    timestamped directory, ``..data`` points at it, each top-level name points into ``..data``;
    an update writes a new timestamped directory and renames a new ``..data`` over the old."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.daemon_path = root  # the pod's NOTIFIERD_CONFIG: the volume's mount point
        self._stamps = itertools.count(1)
        root.mkdir()

    def publish(self, files: Files) -> None:
        data = self.root / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        stamp = f"..2026_11_30_03_00_{next(self._stamps):02d}.000000001"
        write_files(self.root / stamp, files)
        temporary = self.root / "..data_tmp"
        temporary.symlink_to(stamp)
        os.rename(temporary, data)  # the one atomic step
        for top in {name.split("/")[0] for name in files}:
            visible = self.root / top
            if not visible.is_symlink():
                visible.symlink_to(f"..data/{top}")
        if old is not None:
            shutil.rmtree(self.root / old)


class LinkedCheckout:
    """A directory laid out as git-sync (and deploy/systemd's config pull) keeps a repository:
    each revision is a checkout of its own and the config directory is a symlink swapped from
    one checkout to the next, the old one removed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.daemon_path = root / "current"  # --link=current
        self._revisions = itertools.count(1)
        (root / ".worktrees").mkdir(parents=True)

    def publish(self, files: Files) -> None:
        link = self.daemon_path
        old = os.readlink(link) if link.is_symlink() else None
        checkout = f".worktrees/{next(self._revisions):040x}"
        write_files(self.root / checkout, files)
        temporary = self.root / "current.tmp"
        temporary.symlink_to(checkout)
        os.rename(temporary, link)
        if old is not None:
            shutil.rmtree(self.root / old)


Layout = Callable[[Path], ConfigMapVolume | LinkedCheckout]


async def metrics(port: int) -> dict[str, float | str]:
    """The active snapshot's id and the refused reloads, as /metrics shows them."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as answer,
    ):
        text = await answer.text()
    seen: dict[str, float | str] = {"refused": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "notifierd_config_info":
                seen["snapshot"] = sample.labels["snapshot"]
            if sample.name == "notifierd_config_reloads_total" and sample.labels == {
                "result": "invalid"
            }:
                seen["refused"] = sample.value
    return seen


@pytest.mark.parametrize("layout", [ConfigMapVolume, LinkedCheckout], ids=["configmap", "git-sync"])
async def test_daemon_follows_atomic_swaps_of_its_config_directory(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    daemons: list[DaemonProcess],
    layout: Layout,
) -> None:
    volume = layout(tmp_path / "config")
    volume.publish(config_files("first"))
    port = unused_port()
    daemon = DaemonProcess(
        volume.daemon_path,
        redis_prefix.prefix,
        redis_prefix.url,
        pg_url,
        "http://127.0.0.1:9/unused",
        tmp_path / "daemon.log",
        "--dry-run",
        "--http",
        f"127.0.0.1:{port}",
        watch=True,
    )
    daemons.append(daemon.start())
    state: dict[str, float | str] = {}

    async def listening() -> bool:
        nonlocal state
        try:
            state = await metrics(port)
        except aiohttp.ClientError:
            assert daemon.alive(), daemon.log.read_text()[-3000:]
            return False
        return "snapshot" in state

    await wait_until(listening, 30, "the daemon's /metrics")
    first = state["snapshot"]

    def snapshot_changed_from(previous: float | str) -> Callable[[], Awaitable[bool]]:
        async def changed() -> bool:
            nonlocal state
            state = await metrics(port)
            return state["snapshot"] != previous

        return changed

    # A good change is swapped in.
    volume.publish(config_files("second"))
    await wait_until(snapshot_changed_from(first), 15, "the reload after the first swap")
    second = state["snapshot"]

    # A broken one (a route naming a channel that does not exist) is refused; the last good
    # config stays active.
    volume.publish(config_files("broken", channel="nope"))

    async def refused() -> bool:
        nonlocal state
        state = await metrics(port)
        return state["refused"] >= 1

    await wait_until(refused, 15, "the broken config to be refused")
    assert state["snapshot"] == second
    assert "config reload refused" in daemon.log.read_text()

    # And the watcher still follows the directory after the swaps before.
    volume.publish(config_files("third"))
    await wait_until(snapshot_changed_from(second), 15, "the reload after a third swap")
    assert daemon.alive()
    assert await daemon.terminate() == 0
