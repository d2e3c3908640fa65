"""Cancelling tasks so that they end: again, when a cancellation was swallowed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], *, every: float = 1.0) -> None:
    """Cancel ``tasks`` and wait until each has ended, cancelling again every ``every`` s those
    still running. Python 3.11's ``asyncio.wait_for``, which redis-py sends each command
    through, returns the command's reply instead of raising when the cancellation lands as the
    command completes; a loop around such a call (a heartbeat) then goes on for good, and a
    shutdown that awaits it never ends (seen: 1 start-and-stop in 5, bench/README.md)."""
    pending = {task for task in tasks if not task.done()}
    again = False
    while pending:
        if again:
            log.warning(
                "%d task(s) went on after being cancelled (%s): cancelling again",
                len(pending),
                ", ".join(sorted(task.get_name() for task in pending)),
            )
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=every)
        again = True
