"""The supervisor's copy of the last config that validated, for the workers it starts again.

A worker that dies while the config on disk is broken must not stay down until someone fixes
the files: the supervisor starts it on this copy instead (it reloads from the real directory
once that validates). The copy is taken first and validated afterwards, so what is kept is
exactly what passed, even if the files change while they are being checked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from notifierd.config.problems import Problem

log = logging.getLogger("notifierd.supervisor")

# Validates a config directory; returns its errors (none: valid).
Validate = Callable[[Path], Sequence[Problem]]
Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Fingerprint:
    """Every file's path, size and mtime: a change to the config changes it (git's own files
    excepted, which the copy leaves out)."""
    found: list[tuple[str, int, int]] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in files:
            path = Path(folder, name)
            with contextlib.suppress(FileNotFoundError):  # deleted meanwhile: not config
                stat = path.stat()
                found.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


class LastGoodConfig:
    """``refresh()`` whenever the config may have changed; ``path`` is the copy to start on.

    Use as a context manager: the copy lives in a temporary directory removed at the end.
    """

    def __init__(self, source: Path, validate: Validate, *, settle: float = 0.0) -> None:
        """``settle``: a change is checked once the files have stayed as they are this long
        (the first look checks at once). The workers validate a change the moment they see it,
        for the reload that matters now; checked at the same moment, this copy took CPU from
        theirs. Meanwhile a worker started again falls back, if at all, to the copy before —
        the last one known good, which is what a fallback is for."""
        self.source = source
        self._validate = validate
        self._settle = settle
        self._changed: tuple[Fingerprint, float] | None = None  # files not checked yet, since
        self._dir = Path(tempfile.mkdtemp(prefix="notifierd-last-good-"))
        self.path = self._dir / "config"
        self._checked: Fingerprint | None = None  # of the files the last refresh looked at
        self._problems: list[Problem] = []  # theirs

    def __enter__(self) -> LastGoodConfig:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def has_copy(self) -> bool:
        """Whether a copy has been kept yet."""
        return self.path.is_dir()

    def refresh(self) -> list[Problem]:
        """Copy and validate the config if its files changed since the last look; keep the
        copy when it is valid. Returns the errors of the files as they are (none: valid)."""
        seen = fingerprint(self.source)
        if seen == self._checked:
            return list(self._problems)
        if self._checked is not None and self._settle > 0:
            if self._changed is None or self._changed[0] != seen:
                self._changed = (seen, time.monotonic())
            if time.monotonic() - self._changed[1] < self._settle:
                return list(self._problems)
        self._changed = None
        self._checked = seen
        staging = self._dir / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(self.source, staging, ignore=shutil.ignore_patterns(".git"))
        self._problems = list(self._validate(staging))
        if self._problems:
            shutil.rmtree(staging, ignore_errors=True)
            if self.has_copy:
                log.warning(
                    "the config in %s is invalid; a worker started again starts from the last "
                    "good copy (%d error(s), first: %s)",
                    self.source,
                    len(self._problems),
                    self._problems[0],
                    extra={"event": "config_invalid"},
                )
            return list(self._problems)
        retired = self._dir / "retired"
        if self.has_copy:
            self.path.rename(retired)
        staging.rename(self.path)
        shutil.rmtree(retired, ignore_errors=True)
        return []
