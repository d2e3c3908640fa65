"""Call a function in a forked child process and take its result back, so what it imports and
allocates leaves with the child.

The supervisor of ``notifierd run --workers N`` checks the service URLs (redis-py), the
listener's credentials and the config (the whole validation stack) before its workers start and
again whenever the config changes. Done in its own process, those imports alone would keep ~45
MiB resident for as long as it runs, beside workers that hold their own copies; done in a child,
the supervisor stays at what it needs to start and watch processes.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

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
