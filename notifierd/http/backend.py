"""What the HTTP listener needs from the daemon, as a protocol: http/ knows no Daemon.

The daemon implements it (``notifierd.daemon.Daemon``); the web console to come serves from the
same seam.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from notifierd.active import LastReload
from notifierd.config.model import Heartbeat, Snapshot, SnapshotId
from notifierd.config.problems import Problem
from notifierd.errors import Conflict
from notifierd.pipeline.ratelimit import LimitStatus
from notifierd.principals import Principal, Principals, Refused
from notifierd.runtime.changes import RuntimeChanges
from notifierd.status import AlertStatus
from notifierd.store.alerts import AlertChanges
from notifierd.store.audit import Action, AuditEntry, AuditSearch, Outcome
from notifierd.store.rows import (
    AlertSummary,
    DeadLetter,
    DeliverySearch,
    HistoryEntry,
    TimelinePage,
)
from notifierd.store.sessions import SessionStore
from notifierd.templates.catalog import TemplateCatalog


class AlertActions(Protocol):
    """Acknowledge, resolve or escalate an alert by its id, dedup key or a step's id, as
    ``actor``; None: no such alert; Refused: the actor may not act on it; Conflict: the alert's
    state refuses it. ``note``: the caller's words, recorded with the action (never as who
    acted); ``origin``: where the caller called from, for the audit log."""

    async def acknowledge(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | None: ...

    async def resolve(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | None: ...

    async def escalate(
        self,
        alert_id: str,
        actor: Principal,
        via: str,
        note: str | None = None,
        context: dict[str, Any] | None = None,
        origin: str | None = None,
    ) -> dict[str, Any] | Refused | Conflict | None:
        """Fire the next level now; the answer has ``escalation`` (round, level, requested_by,
        joined, next_due_at)."""


class ConsoleReads(Protocol):
    """What the console's views read: the store and Redis listings the CLI shows, and the
    active config's state. The same functions answer ``notifierd alerts``, ``history``,
    ``dlq`` and ``ratelimit status``."""

    async def list_alerts(self, status: AlertStatus | None, limit: int) -> list[AlertSummary]:
        """Open alerts first (triggered, then acknowledged), newest first in each, then the
        resolved ones, with their current level and next escalation (``notifierd alerts list``)."""

    async def show_alert(self, key: str, page: TimelinePage | None = None) -> dict[str, Any] | None:
        """One alert by id or dedup key with its steps and its timeline, every event or
        ``page`` of them (``alerts show``)."""

    async def search_deliveries(self, search: DeliverySearch) -> list[HistoryEntry]:
        """Deliveries newest first, a page after ``search.after`` (``notifierd history``)."""

    async def dead_letters(self, channel: str | None, limit: int) -> list[DeadLetter]:
        """The dead-letter queue newest first (``notifierd dlq list``)."""

    async def record_audit(self, entry: AuditEntry) -> None:
        """Add ``entry`` to the audit log (a failed write is logged; the action stands)."""

    async def search_audit(self, search: AuditSearch) -> list[AuditEntry]:
        """The audit log newest first (``notifierd audit``)."""

    async def count_recent_audit(
        self, action: Action, outcome: Outcome, origin: str, seconds: float
    ) -> int:
        """How many ``action`` rows with ``outcome`` came from ``origin`` in the last
        ``seconds``, across every worker and replica (failed sign-ins of an address)."""

    async def alert_changes(self, after: datetime) -> AlertChanges:
        """The alerts changed after ``after`` by any worker or replica, and when Postgres
        answered: one query (the console's live updates ask once a second)."""

    def session_store(self) -> SessionStore:
        """The console's sessions in Postgres."""

    async def retry_dead_letters(self, ids: Sequence[str], *, all_: bool) -> tuple[int, int]:
        """(deliveries requeued, requests put back on their queues) (``notifierd dlq retry``)."""

    async def rate_limits(self) -> list[LimitStatus]:
        """Each configured rate limit's use now (``notifierd ratelimit status``)."""

    def catalog(self) -> TemplateCatalog:
        """The active config's templates, compiled."""

    def loaded_at(self) -> datetime:
        """When the active config became active."""

    def last_reload(self) -> LastReload | None:
        """The last reload since the daemon started, if any ran."""

    def runtime(self) -> RuntimeChanges:
        """Run-time silences and overrides: listed, added and ended (checked and audited)."""

    def missing_secrets(self) -> dict[str, list[str]]:
        """Channel name -> environment variables its settings name and this process lacks
        (such a channel fails every delivery with that reason)."""


class Backend(ConsoleReads, Protocol):
    @property
    def draining(self) -> bool:
        """Stopping: finishing what is in flight, taking nothing new."""

    @property
    def alerts(self) -> AlertActions | None: ...

    async def redis_ok(self) -> bool: ...

    async def postgres_ok(self) -> bool: ...

    async def queue_depth(self) -> int: ...

    async def reload(self, why: str) -> bool:
        """Reload the config; True when a new one became active."""

    def reload_problems(self) -> list[Problem]:
        """Why the last reload was refused; empty after a good one."""

    def snapshot(self) -> SnapshotId:
        """The active config's identity."""

    def config(self) -> Snapshot:
        """The active config (people and settings: who a Slack user is)."""

    def principals(self) -> Principals:
        """The API's principals under the active config and the current credentials."""

    async def first_slack_request(self, signature: str, mark_seconds: int) -> bool:
        """True the first time a (verified) Slack request with this signature arrives at any
        replica within ``mark_seconds``; False for a replay."""

    async def enqueue(self, payload: bytes, sender: Principal) -> None:
        """Push a valid request onto the queue, as a producer would, remembering ``sender``
        (the alert it may open is then the sender's)."""

    async def intake_webhook(
        self, source: str, requests: Sequence[tuple[str, bytes]], sender: Principal
    ) -> int:
        """Commit ``requests`` ((id, valid request JSON) each, from one ``source`` webhook
        payload) in Postgres, then queue those not queued before; returns how many were queued
        now. Raises when Postgres or Redis fails: the sender retries the whole payload."""

    def webhook_heartbeats(self, sender: Principal) -> tuple[Heartbeat, ...]:
        """The heartbeats ``sender``'s webhook alerts may beat: those with ``from_alert`` whose
        producer it is."""

    async def beat(self, name: str, sender: Principal) -> dict[str, Any] | Refused | None:
        """A beat of heartbeat ``name`` by ``sender``: what was recorded (``name``, and
        ``resolved``: the alert the beat resolved, if the heartbeat was late); None: no such
        heartbeat; Refused: ``sender`` is not the producer allowed to beat it."""

    async def request_sender(self, request_id: str) -> str | None:
        """The principal id that sent the request over the API, if one did."""

    async def request_status(self, request_id: str) -> dict[str, Any] | None: ...
