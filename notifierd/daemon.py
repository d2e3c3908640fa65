"""The daemon's lifecycle: build the services, start their loops, reload, stop gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notifierd import metrics
from notifierd.active import LastReload
from notifierd.cancelling import cancel_and_wait
from notifierd.config.model import ANONYMOUS_PRODUCER, Heartbeat, Snapshot, SnapshotId
from notifierd.config.problems import ConfigInvalid, Problem
from notifierd.config.values import missing_env
from notifierd.configwatch import config_changes
from notifierd.http.backend import AlertActions
from notifierd.intake.storm import StormControl, StormLimit
from notifierd.options import Options
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.ratelimit import LimitStatus, RateLimiter
from notifierd.principals import (
    ANONYMOUS_LOCAL,
    CredentialError,
    Principal,
    Principals,
    Refused,
)
from notifierd.reconnect import Outage
from notifierd.request import Request
from notifierd.runtime.changes import RuntimeChanges
from notifierd.secrets import Secrets, SecretsError
from notifierd.services import Services, build
from notifierd.status import AlertStatus
from notifierd.store import retention
from notifierd.store.alerts import AlertChanges
from notifierd.store.audit import Action, AuditEntry, AuditSearch, Outcome
from notifierd.store.due import DueClock, postgres_clock
from notifierd.store.rows import (
    AlertSummary,
    DeadLetter,
    DeliverySearch,
    HistoryEntry,
    TimelinePage,
)
from notifierd.store.sessions import SessionStore
from notifierd.templates.catalog import TemplateCatalog
from notifierd.validation import load_snapshot

__all__ = ["Daemon", "Options"]

log = logging.getLogger("notifierd.daemon")

# Container objects allocated (and not freed) between two scans of the cyclic collector's
# youngest generation: Python's default is 700 (settle_collector says why the daemon's is higher).
YOUNG_OBJECTS_PER_COLLECTION = 10_000


def settle_collector() -> None:
    """Tune the cyclic garbage collector for a daemon that has started."""
    # What start() built (modules, the first snapshot, the services) lives as long as the
    # process: kept out of the cyclic collector's sight, a full collection scans only what
    # came later. The one a reload's new snapshot sets off had stopped the event loop for
    # 70-80 ms with the 1,000-route config (bench/README.md, issue 22 §3).
    gc.collect()
    gc.freeze()
    # The cyclic collector's first generation is scanned after every 700 container objects
    # allocated and not freed. With a few hundred requests in flight, most of what is young
    # is still in use, so each scan found next to nothing and the older generations were
    # rescanned every few milliseconds: 7-8 % of a worker's CPU in a burst, and pauses of
    # 1-2 ms (the second generation) at a steady rate. Cycles are rare here (about a hundred
    # objects collected a second), so a scan every 10,000 is ample (bench/README.md).
    gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION)


def config_principals(config_dir: Path, last_good: Path | None = None) -> Principals | None:
    """The principals of the config in ``config_dir`` (else of ``last_good``, the copy a worker
    started again starts from), to decide before connecting to anything whether the listener
    has credentials; None when the config does not load (the start then reports its problems).
    Raises CredentialError or SecretsError for credentials that cannot work."""
    for root in (config_dir, last_good):
        if root is None:
            continue
        try:
            snapshot = load_snapshot(root, with_git=False)
        except (ConfigInvalid, OSError):
            continue
        return Principals.of(snapshot, Secrets.load())
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _producer_of(sender: Principal) -> str:
    """The producer id a heartbeat names for ``sender``; the listener without credentials is the
    anonymous producer's, as the default queue is."""
    if sender.producer is not None:
        return sender.producer.id
    return ANONYMOUS_PRODUCER if sender == ANONYMOUS_LOCAL else sender.id


class Daemon:
    """``run()``: start, serve until SIGTERM/SIGINT, stop. Also the HTTP listener's backend
    (notifierd.http.backend.Backend)."""

    def __init__(
        self,
        options: Options,
        clock: Callable[[], datetime] = utcnow,
        due_clock: DueClock = postgres_clock,
    ) -> None:
        self.options = options
        self.clock = clock
        self.due_clock = due_clock  # tests give their clock here too (store/due.py)
        self.stopping = asyncio.Event()
        self._services: Services | None = None  # built by start()
        self._tasks: list[asyncio.Task[Any]] = []
        self.http: Any = None  # the aiohttp AppRunner while the HTTP listener runs
        self._principals: tuple[Snapshot, Principals] | None = None  # of the active snapshot
        self._sessions: SessionStore | None = None  # the console's, made with the first

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the daemon has not started")
        return self._services

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the services (config, connections, migrations), recover, start every loop."""
        opts = self.options
        if opts.http:
            from notifierd.http.listener import check_listener

            # A bad --http value, or an API the network could reach without credentials, fails
            # before connecting to anything.
            check_listener(
                opts.http,
                principals=config_principals(opts.config_dir, opts.last_good_config),
                insecure_no_auth=opts.insecure_no_auth,
                private_metrics=opts.private_metrics,
            )
        self._services = s = await build(opts, self.clock, self.due_clock)
        # The run-time silences and overrides apply from the first request on (the loop below
        # tries again every second if Postgres does not answer now).
        try:
            await s.refresher.refresh()
        except Exception as exc:
            log.warning("reading run-time silences and overrides failed: %s", exc)
        # Recovers too: dead consumers' requests, and what our own id held when it last stopped
        # (a fixed --consumer-id), go back in line, each onto the queue it came from.
        recovered = await s.intake.start()
        s.recorder.start()
        s.escalator.start()
        log.info(
            "notifierd started: config %s, queue %s%s, consumer %s%s; recovered %d request(s)",
            s.holder.active.id,
            s.keys.queue,
            "".join(f", {c.keys.queue}" for c in s.queues.consumers[1:]),
            s.consumer.id,
            " (dry run)" if opts.dry_run else "",
            recovered,
            extra={"event": "started"},
        )
        self._tasks = [
            asyncio.create_task(s.intake.run(self.stopping), name="intake"),
            asyncio.create_task(
                s.retrier.run(self.stopping, drain_timeout=opts.shutdown_timeout),
                name="retrier",
            ),
            # A digest cut off by the shutdown rolls back: what it listed stays held.
            asyncio.create_task(s.digester.run(self.stopping), name="digester"),
            asyncio.create_task(self._maintenance_loop(), name="maintenance"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeats"),
            asyncio.create_task(s.refresher.run(self.stopping), name="runtime"),
            asyncio.create_task(
                retention.run(
                    s.store.pool,
                    lambda: s.holder.active.snapshot.settings.retention_days,
                    self.clock,
                    self.stopping,
                ),
                name="retention",
            ),
        ]
        if opts.watch:
            self._tasks.append(asyncio.create_task(self._watch_config(), name="watch"))
        if opts.http:
            try:
                await self.start_http()
            except BaseException:
                await self.stop()  # a port in use must not leave the loops running
                raise

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info(
                "stopping: no new requests; finishing those in flight", extra={"event": "stopping"}
            )
            self.stopping.set()
            if self._services is not None:
                self._services.intake.wake()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.create_task(self.reload("SIGHUP")))

    async def run(self) -> None:
        """Start, serve until asked to stop, then stop gracefully."""
        await self.start()
        # Here, not in start(): a test process starts many daemons and would keep each one's
        # cycles.
        settle_collector()
        try:
            await self.stopping.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop taking, finish or return what is in flight, record it, then close. Each step
        runs even when one before it failed (Redis away, say): what can be closed is."""
        self.request_stop()
        s = self.services
        timeout = self.options.shutdown_timeout
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("the HTTP listener", self.stop_http),  # no new HTTP intake or acks while draining
            ("the intake", self._stop_intake),
            ("the recorder", s.recorder.stop),
            # Requests of keys we owned until the last acknowledgement may have been handed to
            # us meanwhile: back to the queue too, so we stop holding nothing.
            ("returning handed-over requests", s.queues.release_handed),
            ("the escalator", lambda: s.escalator.stop(timeout)),
            ("the retrier", lambda: self._wait_for_task("retrier", timeout + 5)),
            ("the background loops", self._cancel_tasks),
            ("the consumers", s.queues.stop),
            ("the channels", s.senders.close),
            ("the Postgres pool", s.store.close),
            ("the escalations' Postgres pool", s.escalation_store.close),
            ("the Redis client", s.redis.aclose),
        ]
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("stopping %s failed", what)
        log.info("notifierd stopped", extra={"event": "stopped"})

    async def _stop_intake(self) -> None:
        # It stops by itself within one fetch timeout; cancelled only if it is stuck.
        await self._wait_for_task("intake", self.options.shutdown_timeout, cancel=True)
        await self.services.intake.finish(self.options.shutdown_timeout)

    async def _wait_for_task(self, name: str, timeout: float, *, cancel: bool = False) -> None:
        task = next((t for t in self._tasks if t.get_name() == name), None)
        if task is not None:
            _, stuck = await asyncio.wait([task], timeout=timeout)
            if cancel:  # and ended: what it says on its way out (the intake's batch) is said
                await cancel_and_wait(stuck)

    async def _cancel_tasks(self) -> None:
        await cancel_and_wait(self._tasks)

    async def reload(self, why: str) -> bool:
        before = self.snapshot()
        changed = await self.services.reloads.reload(why)
        if changed:
            await self._audit_activation(before, self.snapshot(), why)
        return changed

    async def _audit_activation(self, before: SnapshotId, after: SnapshotId, why: str) -> None:
        """One audit row per config change, however many workers and replicas activate it
        (within the same minute): the row says what changed; who asked is the caller's row."""
        minute = int(time.time() // 60)
        await self.services.audit.record(
            AuditEntry(
                "notifierd",
                Action.RELOAD,
                why,
                str(after),
                detail={"from": str(before), "to": str(after)},
                dedup=f"activated:{before.content_hash}:{after.content_hash}:{minute}",
            )
        )

    # -- the HTTP listener (notifierd.http) and what it asks of us (http.backend.Backend) -------

    async def start_http(self) -> None:
        """Serve health, readiness, metrics, reload, the API and Slack on ``options.http``."""
        from notifierd.console.routes import add_console
        from notifierd.http.connections import ConnectionLimits
        from notifierd.http.listener import start_http
        from notifierd.http.session import SessionSettings

        assert self.options.http
        self.principals()  # credentials that cannot tell principals apart stop the start here
        self.http = await start_http(
            self,
            self.options.http,
            insecure_no_auth=self.options.insecure_no_auth,
            private_metrics=self.options.private_metrics,
            limits=ConnectionLimits(
                head_timeout=self.options.http_head_timeout,
                body_timeout=self.options.http_body_timeout,
                max_connections=self.options.http_max_connections,
            ),
            extend=add_console,
            sessions=SessionSettings(
                lifetime=timedelta(seconds=self.options.console_session_seconds)
            ),
        )

    async def stop_http(self) -> None:
        if self.http is not None:
            runner, self.http = self.http, None
            await runner.cleanup()

    @property
    def draining(self) -> bool:
        return self.stopping.is_set()

    @property
    def alerts(self) -> AlertActions | None:
        return self.services.alerts

    async def redis_ok(self) -> bool:
        return bool(await self.services.redis.ping())

    async def postgres_ok(self) -> bool:
        return await self.services.store.ping()

    async def queue_depth(self) -> int:
        return await self.services.queues.queue_depth()

    def reload_problems(self) -> list[Problem]:
        return list(self.services.holder.last_problems)

    def snapshot(self) -> SnapshotId:
        return self.services.holder.active.snapshot.identity

    def config(self) -> Snapshot:
        return self.services.holder.active.snapshot

    def principals(self) -> Principals:
        """Built once per snapshot, reading the credentials again: a reload picks up a new
        token. Credentials that cannot tell principals apart keep the previous ones."""
        snapshot = self.config()
        if self._principals is None or self._principals[0] is not snapshot:
            try:
                built = Principals.of(snapshot, Secrets.load())
            except (CredentialError, SecretsError) as exc:
                if self._principals is None:
                    raise
                log.error("credentials refused, the previous ones stay: %s", exc)
                built = self._principals[1]
            self._principals = (snapshot, built)
        return self._principals[1]

    async def enqueue(self, payload: bytes, sender: Principal) -> None:
        if sender != ANONYMOUS_LOCAL:  # written first: the trigger reads it as the opener
            request_id = json.loads(payload)["id"]
            await self.services.store.record_sender(str(request_id), sender.id)
        await self.services.redis.lpush(self.services.keys.queue, payload)  # type: ignore[misc]

    async def intake_webhook(
        self, source: str, requests: Sequence[tuple[str, bytes]], sender: Principal
    ) -> int:
        # A producer with a queue of its own gets its requests there, so the group's resolve
        # acts as that producer, which opened the alert (the default queue is anonymous).
        own = sender.producer
        queue = (
            self.services.keys.producer_queue(own.id)
            if own is not None and own.queue
            else self.services.keys.queue
        )

        async def push(payloads: list[bytes]) -> None:
            # LPUSH of several keeps their order for the consumer, which takes from the tail.
            await self.services.redis.lpush(queue, *payloads)  # type: ignore[misc]

        return await self.services.store.webhook_intake(
            source,
            await self._storm_controlled(requests),
            None if sender == ANONYMOUS_LOCAL else sender.id,
            push,
        )

    async def _storm_controlled(
        self, requests: Sequence[tuple[str, bytes]]
    ) -> list[tuple[str, str]]:
        """``requests`` as text, the new ones past their route's storm limit folded."""
        as_text = [(request_id, payload.decode()) for request_id, payload in requests]
        active = self.services.holder.active
        limits = {
            r.name: StormLimit(r.name, r.max_new_alerts_per_minute)
            for r in active.snapshot.routes
            if r.max_new_alerts_per_minute
        }
        if not limits:
            return as_text
        store = self.services.store
        known = await store.known_webhook_requests([request_id for request_id, _ in requests])
        fresh = [json.loads(text) for request_id, text in as_text if request_id not in known]
        now = self.clock()

        def limit_of(request: dict[str, Any]) -> StormLimit | None:
            decision = active.router.route(Request.from_dict(request), now)
            return next((limits[r] for r in decision.routes if r in limits), None)

        controlled = await StormControl(self.services.redis, self.services.keys).apply(
            fresh, limit_of, store.alert_open, int(now.timestamp()) // 60
        )
        # A known id keeps what was recorded first: its text here is not written again.
        folded = {r["id"]: json.dumps(r, separators=(",", ":")) for r in controlled}
        return [(i, folded.get(i, text)) for i, text in as_text]

    async def beat(self, name: str, sender: Principal) -> dict[str, Any] | Refused | None:
        return await self.services.heartbeats.answer(self.config(), name, _producer_of(sender))

    def webhook_heartbeats(self, sender: Principal) -> tuple[Heartbeat, ...]:
        producer = _producer_of(sender)
        return tuple(
            h for h in self.config().heartbeats.values() if h.from_alert and h.producer == producer
        )

    async def first_slack_request(self, signature: str, mark_seconds: int) -> bool:
        # SET NX in Redis rather than memory: replicas behind one Slack app share the mark.
        key = self.services.keys.slack_request(signature)
        return bool(await self.services.redis.set(key, b"1", nx=True, ex=mark_seconds))

    async def list_alerts(self, status: AlertStatus | None, limit: int) -> list[AlertSummary]:
        return await self.services.alerts.store.list(status, limit)

    async def show_alert(self, key: str, page: TimelinePage | None = None) -> dict[str, Any] | None:
        return await self.services.alerts.store.show(key, page)

    async def search_deliveries(self, search: DeliverySearch) -> list[HistoryEntry]:
        return await self.services.store.search_deliveries(search)

    async def dead_letters(self, channel: str | None, limit: int) -> list[DeadLetter]:
        return await self.services.store.dlq_list(channel, limit)

    async def record_audit(self, entry: AuditEntry) -> None:
        await self.services.audit.record(entry)

    async def search_audit(self, search: AuditSearch) -> list[AuditEntry]:
        return await self.services.audit.search(search)

    async def count_recent_audit(
        self, action: Action, outcome: Outcome, origin: str, seconds: float
    ) -> int:
        return await self.services.audit.count_recent(action, outcome, origin, seconds)

    async def alert_changes(self, after: datetime) -> AlertChanges:
        return await self.services.alerts.store.changed_since(after)

    def session_store(self) -> SessionStore:
        if self._sessions is None:
            self._sessions = SessionStore(self.services.store.pool)
        return self._sessions

    async def retry_dead_letters(self, ids: Sequence[str], *, all_: bool) -> tuple[int, int]:
        redis = self.services.redis

        async def push(queue: str, raw: str) -> None:
            await redis.rpush(queue, raw)  # type: ignore[misc]  # the consuming end: taken next

        return await self.services.store.dlq_requeue(push, all_=all_, ids=ids)

    async def rate_limits(self) -> list[LimitStatus]:
        limits = self.config().rate_limits
        return await RateLimiter(self.services.redis, self.services.keys).status(limits)

    def catalog(self) -> TemplateCatalog:
        return self.services.holder.active.catalog

    def loaded_at(self) -> datetime:
        return self.services.holder.loaded_at

    def last_reload(self) -> LastReload | None:
        return self.services.holder.last_reload

    def runtime(self) -> RuntimeChanges:
        return self.services.runtime

    def missing_secrets(self) -> dict[str, list[str]]:
        # The senders expand ${NAME} from the process environment (channels/registry.py).
        missing = {
            name: missing_env(channel.settings, os.environ)
            for name, channel in self.config().channels.items()
        }
        return {name: names for name, names in missing.items() if names}

    async def request_sender(self, request_id: str) -> str | None:
        return await self.services.store.sender(request_id)

    async def request_status(self, request_id: str) -> dict[str, Any] | None:
        return await self.services.store.request_status(request_id)

    # -- background ------------------------------------------------------------------------------

    async def _maintenance_loop(self) -> None:
        """Recover requests held by dead consumers; publish the queue depth, the open alerts
        and how far escalations are behind."""
        interval = max(1.0, self.options.heartbeat_ttl / 3)
        what = "recovering requests from consumers that died"
        outage = Outage(log, infrastructure_failure, event="redis_unavailable")
        postgres = Outage(log, infrastructure_failure, event="postgres_unavailable")
        while not self.stopping.is_set():
            try:
                recovered = await self.services.queues.recover()
                if recovered:
                    log.warning(
                        "recovered %d request(s) from a consumer that died",
                        recovered,
                        extra={"event": "recovered"},
                    )
                metrics.QUEUE_DEPTH.set(await self.services.queues.queue_depth())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outage.failed(what, f"the next pass in {interval:g}s", exc)
            else:
                outage.succeeded(what)
            await self._publish_alert_gauges(postgres, interval)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), interval)

    async def _heartbeat_loop(self) -> None:
        """Open the alert of each heartbeat gone late; Postgres decides which replica does."""
        interval = self.options.heartbeat_poll
        what = "looking for late heartbeats"
        outage = Outage(log, infrastructure_failure, event="postgres_unavailable")
        while not self.stopping.is_set():
            snapshot = self.services.holder.active.snapshot
            if snapshot.heartbeats:
                try:
                    async with asyncio.timeout(max(interval, 5.0)):
                        await self.services.heartbeats.sweep(snapshot)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    outage.failed(what, f"the next pass in {interval:g}s", exc)
                else:
                    outage.succeeded(what)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), interval)

    async def _publish_alert_gauges(self, outage: Outage, interval: float) -> None:
        # Measured here, not by the escalator: a stuck escalator must still show as behind.
        what = "reading open alerts and overdue escalation steps"
        try:
            # Bounded: a Postgres that does not answer must not hold up recovering requests.
            async with asyncio.timeout(interval):
                gauges = await self.services.store.alert_gauges(self.due_clock())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outage.failed(what, f"the next look in {interval:g}s", exc)
        else:
            outage.succeeded(what)
            metrics.OPEN_ALERTS.set(gauges.open_alerts)
            metrics.ESCALATION_OVERDUE.set(gauges.escalation_overdue)

    async def _watch_config(self) -> None:
        try:
            async for why in config_changes(self.options.config_dir, self.stopping):
                await self.reload(why)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # watching is a convenience; SIGHUP still works
            log.error(
                "watching %s for changes failed: %s; reload with SIGHUP",
                self.options.config_dir,
                exc,
            )
