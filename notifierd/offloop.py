"""Validating a config in a forked child process, so a reload leaves the event loop alone.

A reload validated in a thread still shares the GIL with the event loop: 1-2 s of YAML, JSON
Schema and Jinja work, and every request waits its turn for the interpreter (issue 22: p99 at
500/s went from ~5 ms to ~126 ms while a 1,000-route config was validated). A child forked from
the daemon has an interpreter of its own and starts at once. (The daemon's first load runs in
such a child too, so a worker never holds what validation builds or the compiled template
pieces: each child compiles afresh — a reload of the shipped config 0.03 → 0.15 s, of the
1,000-route one ~0.5 → ~0.7 s — for ~14 MiB less per worker, bench/README.md.) It sends back the problems and the snapshot,
pickled; compiled templates hold generated code and do not travel, so the daemon compiles each
one when first rendered. The snapshot travels in slices (ten routes or templates each): one
pickle of 1,000 routes held the GIL for 40-190 ms in one C call while it was read, a slice
takes a few.

The child runs validation and nothing else: no event loop, no connection, no metric, and it
leaves by ``os._exit``. Validation takes no lock another thread may hold at the fork except the
template compiler's, which the compiler guards across forks (templates/compiler.py).
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import gc
import hashlib
import io
import os
import pickle
import select
import signal
import time
import traceback
import warnings
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from notifierd.config.identity import content_hash, git_state
from notifierd.config.model import Snapshot
from notifierd.config.repository import discover
from notifierd.validation import Validation, validate_repository

# Seconds a child may take before it is killed and the reload fails (the old config stays).
CHILD_TIMEOUT = 300.0
# Items of a snapshot's tuple or mapping per slice.
SLICE = 10


class ChildFailed(RuntimeError):
    """The child died, hung or raised; the message says which (its traceback, when it raised)."""


def validate_in_child(
    root: str | Path,
    *,
    with_git: bool = True,
    snapshot: bool = True,
    nice: int = 0,
    timeout: float = CHILD_TIMEOUT,
) -> Validation:
    """``validate_repository(root)`` in a forked child: the same problems and snapshot, no
    compiled templates (``snapshot=False``: the problems alone). ``nice``: added to the child's
    nice value. Blocks until the child is done: the daemon calls it from a thread."""
    return _validation(_answer(Path(root), with_git, snapshot, nice, timeout))


def _answer(
    root: Path,
    with_git: bool,
    snapshot: bool,
    nice: int,
    timeout: float,
    shared: Path | None = None,
    lock_fd: int | None = None,
) -> bytes:
    """The child's pickled answer to validating ``root`` (``shared``, ``lock_fd``: see
    SharedValidation)."""
    read_end, write_end = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns about fork in a process with threads: the child only validates.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - the child; coverage does not follow it
        if lock_fd is not None:
            # Held by the worker until this child is done; a copy here (and in a grandchild)
            # would keep it held after a timeout killed the child.
            os.close(lock_fd)
        _child(
            read_end,
            write_end,
            root,
            with_git=with_git,
            snapshot=snapshot,
            nice=nice,
            shared=shared,
        )
    os.close(write_end)
    try:
        data = _read_all(read_end, pid, timeout)
    finally:
        os.close(read_end)
        status = _reap(pid)
    if not data:
        raise ChildFailed(f"the validating child exited without an answer (status {status})")
    return data


def _validation(data: bytes) -> Validation:
    answer = pickle.loads(data)
    if answer[0] == "raised":
        raise ChildFailed(f"validation raised in the child:\n{answer[1]}")
    _, problems, slices, files = answer
    return Validation(problems, None if slices is None else _snapshot(slices), files)


class SharedValidation:
    """``validate_in_child``, once per config for all the workers of one daemon.

    Each worker of ``notifierd run --workers N`` sees a change to the config and reloads; each
    validating it in a child of its own took N validations' CPU at once on the same cores (with
    two workers on two cores: change -> active 1.6-1.9 s against 0.7 s for one). Here each
    worker's child runs under one exclusive lock per daemon: it names what the repository holds
    (every file's path and bytes, and the git commit), answers with the answer a sibling's child
    left under that name, or else validates and leaves its answer there. ``directory`` is the
    supervisor's, private to one daemon (it removes it when it stops).

    The child, not the worker, names the files: in a worker's thread the ~1,200 reads of the
    1,000-route repository each gave the GIL back to a busy event loop and waited for it again
    (15 ms idle, 62-130 ms at 500 requests/s); the single-threaded child waits only for a core
    (35-108 ms at 500/s, bench/README.md). Only a config that validated or was refused is left
    for the others: a validation that raised, or whose files changed while it ran, is not."""

    KEEP = 8  # answers kept: a few configs back, for a worker started again meanwhile

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __call__(
        self,
        root: str | Path,
        *,
        with_git: bool = True,
        snapshot: bool = True,
        nice: int = 0,
        timeout: float = CHILD_TIMEOUT,
    ) -> Validation:
        with open(self.directory / "validating.lock", "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # behind a sibling validating
            data = _answer(
                Path(root), with_git, snapshot, nice, timeout, self.directory, lock.fileno()
            )
        return _validation(data)


def _shared_answer(directory: Path, root: Path, with_git: bool, snapshot: bool) -> bytes:
    """In the child, under SharedValidation's lock: the answer a sibling left for what ``root``
    holds now, else a new one, left for the next."""
    try:
        key = _repository_key(root, with_git=with_git, snapshot=snapshot)
    except Exception:
        return _dumps(("raised", traceback.format_exc()))
    answer_path = directory / f"{key}.answer"
    try:
        return answer_path.read_bytes()
    except FileNotFoundError:
        pass
    answer = _validated(root, with_git, snapshot)
    data = _dumps(answer)
    # Left for the others only if it is the answer for what the name says: not a validation
    # that raised (a fork refused, say: the next may do better), nor one whose files changed
    # while it ran (filed under the old files' name, it would answer for them if they came
    # back, which no watcher would notice). The change is validated again when seen.
    try:
        if (
            answer[0] == "raised"
            or _repository_key(root, with_git=with_git, snapshot=snapshot) != key
        ):
            return data
    except Exception:
        return data
    staged = answer_path.with_suffix(f".{os.getpid()}.tmp")
    try:
        staged.write_bytes(data)
        os.replace(staged, answer_path)  # whole or absent, whatever happens to this child
    except OSError:  # a full disk: the siblings validate for themselves
        with contextlib.suppress(OSError):
            staged.unlink()
        return data
    answers = sorted(directory.glob("*.answer"), key=_modified, reverse=True)
    for old in answers[SharedValidation.KEEP :]:
        with contextlib.suppress(OSError):
            old.unlink()
    return data


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _repository_key(root: Path, *, with_git: bool, snapshot: bool) -> str:
    """What validating ``root`` depends on: every file it reads (path and bytes; a file it
    cannot read, by its problem), the git commit and state, and what is asked for."""
    files, problems = discover(root)
    digest = hashlib.sha256(content_hash((f.rel_path, f.raw) for f in files).encode())
    for problem in problems:
        digest.update(f"\0{problem}".encode())
    commit, dirty = git_state(root) if with_git else (None, False)
    digest.update(f"\0{commit}\0{dirty}\0{snapshot}\0{root.resolve()}".encode())
    return digest.hexdigest()


def _child(  # pragma: no cover
    read_end: int,
    write_end: int,
    root: Path,
    *,
    with_git: bool,
    snapshot: bool,
    nice: int,
    shared: Path | None,
) -> None:
    """Validate, write the pickled answer, exit; never return into the daemon's code."""
    status = 1
    try:
        os.close(read_end)
        # The daemon's handlers would run here (SIGTERM to a process group reaches the child
        # too), and the loop's wakeup fd is the parent's: the child only dies.
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        if nice:
            os.nice(nice)
        # The child ends when validation does: a collection only costs it time (a full one took
        # 0.1-0.6 s on a loaded machine), and what it would free is ~0.3 MB.
        gc.disable()
        if shared is None:
            data = _dumps(_validated(root, with_git, snapshot))
        else:
            data = _shared_answer(shared, root, with_git, snapshot)
        with open(write_end, "wb") as out:
            out.write(data)
        status = 0
    finally:
        os._exit(status)


def _validated(root: Path, with_git: bool, snapshot: bool) -> tuple[Any, ...]:
    """The child's answer. Single-threaded, it may fork again: the template files are split
    with a grandchild when a processor is idle right now, as the CLI's validate does (a reload
    of a daemon at rest; under load there is rarely one, and then nothing is split)."""
    try:
        result = validate_repository(root, with_git=with_git, fork=True)
        slices = None if result.snapshot is None or not snapshot else _slices(result.snapshot)
        return ("validated", result.problems, slices, result.files)
    except Exception:
        return ("raised", traceback.format_exc())


def _mapping_proxy(items: Mapping[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(items))


class _Pickler(pickle.Pickler):
    # The snapshot's frozen mappings are mappingproxy objects, which pickle does not know.
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda proxy: (_mapping_proxy, (dict(proxy),))


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _slices(snapshot: Snapshot) -> list[bytes]:
    """The snapshot's fields, pickled apart; long tuples and mappings in slices of SLICE."""
    out: list[bytes] = []
    for f in fields(snapshot):
        value = getattr(snapshot, f.name)
        if isinstance(value, tuple) and len(value) > SLICE:
            kind, items = "tuple", value
        elif isinstance(value, MappingProxyType) and len(value) > SLICE:
            kind, items = "mapping", tuple(value.items())
        else:
            out.append(_dumps((f.name, "whole", value)))
            continue
        for start in range(0, len(items), SLICE):
            out.append(_dumps((f.name, kind, items[start : start + SLICE])))
    return out


def _snapshot(slices: list[bytes]) -> Snapshot:
    """The snapshot from its slices; the GIL can pass to the event loop between two."""
    whole: dict[str, Any] = {}
    parts: dict[str, tuple[str, list[Any]]] = {}
    for data in slices:
        name, kind, value = pickle.loads(data)
        if kind == "whole":
            whole[name] = value
        else:
            parts.setdefault(name, (kind, []))[1].extend(value)
    for name, (kind, items) in parts.items():
        whole[name] = tuple(items) if kind == "tuple" else MappingProxyType(dict(items))
    return Snapshot(**whole)


def _read_all(fd: int, pid: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0.0))
        if not ready:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise ChildFailed(f"the validating child took longer than {timeout:g} s")
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> int | None:
    """The child's exit status; None if something else reaped it first."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None
