"""Call a function in a forked child process and take its result back: what it imports and
allocates leaves with the child, and what the parent loaded it shares without pickling.

The supervisor of ``notifierd run --workers N`` checks the service URLs (redis-py), the
listener's credentials and the config (the whole validation stack) before its workers start and
again whenever the config changes. Done in its own process, those imports alone would keep ~45
MiB resident for as long as it runs, beside workers that hold their own copies; done in a child
(``in_child``), the supervisor stays at what it needs to start and watch processes.

The CLI's one-shot ``validate`` runs part of its CPU-bound work in a child (``Forked``) while the
parent does the rest, and so does a reload's validating child (single-threaded, ``offloop.py``).
Neither is for the daemon's workers themselves: forking a process with an event loop and
connections is not safe (its reloads fork with their own care, ``offloop.py``).
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ChildFailed(RuntimeError):
    """The child ended without an answer (killed, or its outcome would not pickle)."""


def in_child(fn: Callable[[], T]) -> T:
    """``fn()``, run in a forked child: its return value, or the exception it raised (a usage
    error, ``SystemExit``) raised here again as if ``fn`` had run in this process.

    Only for a single-threaded caller (the supervisor starts and watches processes, no threads):
    a fork copies one thread, and a lock another one held would stay held in the child."""
    read_end, write_end = os.pipe()
    sys.stdout.flush()  # else the child's copy of unwritten output is written twice
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the caller's cleanup (finally, atexit)
        status = 1
        try:
            os.close(read_end)
            # The caller's handlers forward signals to its workers; a signal to the process group
            # must stop this child, not make it forward again.
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            with os.fdopen(write_end, "wb") as out:
                out.write(_outcome(fn))
            sys.stdout.flush()
            sys.stderr.flush()
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        data = answer.read()
    _, wait_status = os.waitpid(pid, 0)
    if not data:
        code = os.waitstatus_to_exitcode(wait_status)
        how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise ChildFailed(f"the child process checking for the supervisor {how}")
    ok, value = pickle.loads(data)
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _outcome(fn: Callable[[], T]) -> bytes:
    """``(True, result)`` or ``(False, exception)``, pickled."""
    try:
        return pickle.dumps((True, fn()))
    except BaseException as exc:  # SystemExit and usage errors are answers too
        # The traceback does not pickle; NOTIFIERD_DEBUG=1 shows it through the note.
        exc.add_note("in the supervisor's child process:\n" + traceback.format_exc())
        try:
            return pickle.dumps((False, exc))
        except Exception:
            return pickle.dumps((False, ChildFailed(f"{type(exc).__name__}: {exc}")))


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


def _die_with(parent: int) -> None:
    """Be killed when ``parent`` ends (Linux: PR_SET_PDEATHSIG); exit now if it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:
        os._exit(1)


class Forked(Generic[T]):
    """``work()`` running in a child process; :meth:`result` waits for what it returned."""

    def __init__(self, work: Callable[[], T]) -> None:
        """Raises OSError when no child can be made (no pipe, no fork)."""
        read_fd, write_fd = os.pipe()
        # Anything buffered would be written twice (by both processes): flush it first.
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        try:
            self._pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            raise
        if self._pid == 0:  # the child: never returns
            os.close(read_fd)
            # It holds copies of the parent's descriptors (a daemon's reload lock, the pipe its
            # own parent answers on): it must not outlive a parent killed for taking too long.
            _die_with(parent)
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
