"""Reloads one at a time: a file change, SIGHUP and ``POST /-/reload`` never race.

Each reload validates the repository in a thread. Two running side by side could finish out of
order — the one that read the older files last — and activate an older config. So they run one
after another, and reload requests that arrive while one runs collapse into one more run, which
reads the files as they are when it starts: every caller gets the outcome of a run that began
after it asked.
"""

from __future__ import annotations

import asyncio
import logging

from notifierd.active import ConfigHolder

log = logging.getLogger("notifierd.config")


class Reloads:
    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self._lock = asyncio.Lock()
        self._asked = 0  # reload requests so far
        self._covered = 0  # requests the last finished run began after
        self._outcome = False  # did that run activate a new config

    async def reload(self, why: str) -> bool:
        """Reload (or join the run about to start); True when a new config became active."""
        self._asked += 1
        mine = self._asked
        async with self._lock:  # FIFO: waiters run in the order they asked
            if self._covered >= mine:  # a run that began after we asked has finished
                return self._outcome
            covers = self._asked
            log.info("reloading config (%s)", why, extra={"event": "reload"})
            self._outcome = await asyncio.to_thread(self.holder.reload)
            self._covered = covers
            return self._outcome
