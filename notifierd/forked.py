"""Running part of a CPU-bound job in a forked child, for the CLI's one-shot commands.

A fork shares everything the parent has loaded and built (modules, parsed files) without
pickling it: only the child's result travels back, pickled through a pipe. Nothing here may
be used by the daemon: forking a process with an event loop and connections is not safe.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def spare_cores() -> int:
    """Processors this process may use that are idle right now besides its own: on a shared,
    busy machine a child only competes with the parent and the neighbours, and costs the fork
    and the pickling on top. Linux counts the threads running now in ``/proc/loadavg`` (this
    one included); elsewhere the one-minute load average stands in."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):  # pragma: no cover - not Linux
        running = int(os.getloadavg()[0]) + 1
    return max(cores - running, 0)


class Forked(Generic[T]):
    """``work()`` running in a child process; :meth:`result` waits for what it returned."""

    def __init__(self, work: Callable[[], T]) -> None:
        read_fd, write_fd = os.pipe()
        # Anything buffered would be written twice (by both processes): flush it first.
        sys.stdout.flush()
        sys.stderr.flush()
        self._pid = os.fork()
        if self._pid == 0:  # the child: never returns
            os.close(read_fd)
            code = 0
            try:
                payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(payload)
            except BaseException:  # the parent sees an empty result and does the work itself
                code = 1
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
        os.close(write_fd)
        self._read_fd = read_fd

    def result(self) -> T | None:
        """What ``work()`` returned; None when the child failed or was killed."""
        with os.fdopen(self._read_fd, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not payload:
            return None
        value: T = pickle.loads(payload)
        return value
