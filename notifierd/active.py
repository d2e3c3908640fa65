"""The active config: one snapshot (with its router and templates) swapped whole on reload,
with the run-time silences and schedule overrides (the one exception to "the repository
decides") laid over it.

Above config, routing, schedules and templates: it puts them together for the stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from notifierd import metrics
from notifierd.config.model import Snapshot
from notifierd.config.problems import ConfigInvalid, Problem
from notifierd.offloop import ChildFailed
from notifierd.routing.router import Router
from notifierd.routing.silences import NO_SILENCES, Silences
from notifierd.schedules.runtime import RuntimeOverride, with_overrides
from notifierd.status import ReloadOutcome
from notifierd.templates.catalog import TemplateCatalog
from notifierd.templates.compiled import CompiledTemplate
from notifierd.validation import Validation, load_valid, validate_repository

log = logging.getLogger("notifierd.config")

# How a reload validates the config directory; validate_repository (in this process) unless the
# holder is given another (the daemon's forks a child: notifierd/offloop.py).
Validate = Callable[[Path], Validation]


@dataclass(frozen=True)
class Active:
    """Everything a request needs from one snapshot; a request keeps the one it started with.

    ``snapshot``'s schedules include the run-time overrides in force when this value was made
    (see :meth:`with_runtime`); its identity stays the config's."""

    snapshot: Snapshot
    router: Router
    catalog: TemplateCatalog
    silences: Silences = NO_SILENCES  # run-time silences, checked after the config's windows

    @cached_property
    def id(self) -> str:  # read for every record a request writes
        return str(self.snapshot.identity)

    @classmethod
    def of(
        cls, snapshot: Snapshot, compiled: Mapping[str, CompiledTemplate] | None = None
    ) -> Active:
        """``compiled``: the templates validation compiled, so requests need not compile them."""
        return cls(snapshot, Router(snapshot), TemplateCatalog(snapshot, compiled))

    def with_runtime(self, silences: Silences, overrides: Iterable[RuntimeOverride]) -> Active:
        """This config with run-time silences and overrides laid over it: the router and the
        templates are shared, only the schedules (and the silences) differ."""
        schedules = with_overrides(self.snapshot.schedules, overrides)
        snapshot = self.snapshot
        if schedules is not snapshot.schedules:
            snapshot = replace(snapshot, schedules=schedules)
        if snapshot is self.snapshot and not silences and not self.silences:
            return self
        return Active(snapshot, self.router, self.catalog, silences)


@dataclass(frozen=True, slots=True)
class Runtime:
    """The run-time silences and overrides a daemon holds (read from Postgres)."""

    silences: Silences = NO_SILENCES
    overrides: tuple[RuntimeOverride, ...] = ()


NO_RUNTIME = Runtime()


@dataclass(frozen=True, slots=True)
class LastReload:
    """The last reload (not the first load): when it ran and what came of it."""

    at: datetime
    outcome: ReloadOutcome


class ConfigHolder:
    """Holds the active config; :meth:`reload` validates a new one whole before swapping."""

    def __init__(
        self,
        root: Path,
        active: Active,
        problems: Sequence[Problem] = (),
        *,
        validate: Validate | None = None,
    ) -> None:
        self.root = root
        self.config = active  # the repository's alone
        self.runtime = NO_RUNTIME
        self.active = active  # the config with the run-time silences and overrides over it
        self._validate = validate
        # Why the last reload was refused (empty after a good one): POST /-/reload answers them.
        self.last_problems: list[Problem] = list(problems)
        self.loaded_at = datetime.now(UTC)  # when the active config became active
        self.last_reload: LastReload | None = None
        self._publish(active)

    @classmethod
    def load(
        cls, root: Path, *, fallback: Path | None = None, validate: Validate | None = None
    ) -> ConfigHolder:
        """The holder of a valid config; raises ConfigInvalid (with every problem) otherwise.

        ``fallback``: a copy of the last config that validated (the supervisor's, for a worker
        it starts again). Used only when the config in ``root`` is invalid; reloads still read
        ``root``, so the worker catches up once the files there are fixed. ``validate``: how
        this first load and the reloads validate; without it, here, and the first load keeps
        the templates it compiled. (The daemon's forks a child: the YAML, schema and template
        work of the start then never swells the daemon's own heap — ~2 MiB of a worker's peak
        with one route, 15 MiB with 1,000 — and each template compiles when first rendered.)
        """
        try:
            if validate is None:
                snapshot, validation = load_valid(root)
            else:
                try:
                    validation = validate(root)
                except (ChildFailed, OSError) as exc:
                    # No fork (memory, process limits), or a child killed: the start must not
                    # hang on it — this process validates, as it did before children.
                    log.warning(
                        "validating the config in a child process failed (%s); validating in "
                        "this one",
                        exc,
                        extra={"event": "config_child_failed"},
                    )
                    snapshot, validation = load_valid(root)
                else:
                    if validation.snapshot is None:
                        raise ConfigInvalid(validation.problems)
                    snapshot = validation.snapshot
        except ConfigInvalid as invalid:
            if fallback is None:
                raise
            snapshot, validation = load_valid(fallback, with_git=False)
            holder = cls(
                root,
                Active.of(snapshot, validation.compiled),
                invalid.problems,
                validate=validate,
            )
            log.warning(
                "config in %s is invalid (%s); starting from the last good copy, %s, until "
                "it is fixed",
                root,
                invalid,
                holder.active.id,
                extra={"event": "config_last_good"},
            )
            return holder
        return cls(root, Active.of(snapshot, validation.compiled), validate=validate)

    def reload(self) -> bool:
        """Swap in the config on disk if it is valid; keep the current one if not. True on swap."""
        began = time.monotonic()
        try:
            result = (self._validate or validate_repository)(self.root)
        except Exception as exc:  # never let a reload take the daemon down
            log.exception("config reload failed unexpectedly; keeping %s", self.active.id)
            self.last_problems = [
                Problem(".", 1, 1, f"reload failed: {type(exc).__name__}: {exc}", code="internal")
            ]
            metrics.CONFIG_RELOADS.labels("error").inc()
            metrics.CONFIG_LAST_RELOAD_OK.set(0)
            self._reloaded(ReloadOutcome.FAILED)
            return False
        self.last_problems = result.errors
        if result.snapshot is None:
            for problem in result.errors:
                log.error("config reload refused: %s", problem, extra={"event": "config_invalid"})
            log.error(
                "config reload refused: %d error(s); keeping %s", len(result.errors), self.active.id
            )
            metrics.CONFIG_RELOADS.labels("invalid").inc()
            metrics.CONFIG_LAST_RELOAD_OK.set(0)
            self._reloaded(ReloadOutcome.REFUSED)
            return False
        if result.snapshot.identity.content_hash == self.active.snapshot.identity.content_hash:
            metrics.CONFIG_LAST_RELOAD_OK.set(1)
            self._reloaded(ReloadOutcome.UNCHANGED)
            return False
        self.config = Active.of(result.snapshot, result.compiled)
        self.active = self.config.with_runtime(self.runtime.silences, self.runtime.overrides)
        self._publish(self.active)
        self.loaded_at = self._reloaded(ReloadOutcome.ACTIVATED)
        metrics.CONFIG_RELOADS.labels("success").inc()
        log.info(
            "config reloaded: now %s (validated in %.2fs)",
            self.active.id,
            time.monotonic() - began,
            extra={"event": "config_reloaded"},
        )
        return True

    def set_runtime(self, runtime: Runtime) -> None:
        """Lay ``runtime`` over the config (the daemon's refresher, when what it read changed)."""
        self.runtime = runtime
        self.active = self.config.with_runtime(runtime.silences, runtime.overrides)

    def _reloaded(self, outcome: ReloadOutcome) -> datetime:
        at = datetime.now(UTC)
        self.last_reload = LastReload(at, outcome)
        return at

    def _publish(self, active: Active) -> None:
        identity = active.snapshot.identity
        metrics.CONFIG_INFO.info(
            {"snapshot": identity.content_hash[:12], "git_commit": identity.git_commit or ""}
        )
        metrics.CONFIG_LAST_SUCCESS.set(time.time())
        metrics.CONFIG_LAST_RELOAD_OK.set(1)
