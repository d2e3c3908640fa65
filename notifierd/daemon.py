"""The daemon's wiring and lifecycle: connect, take requests, process, record, reload, shut down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from notifierd import metrics
from notifierd.config.holder import ConfigHolder
from notifierd.config.reloads import Reloads
from notifierd.intake.consumer import Consumer
from notifierd.intake.dedup import Deduplicator
from notifierd.intake.keys import Keys
from notifierd.intake.ratelimit import RateLimiter
from notifierd.pipeline.deliver import Deliverer
from notifierd.pipeline.intake import Intake, IntakeLimits
from notifierd.pipeline.processor import Processed, Processor
from notifierd.pipeline.recorder import Recorder
from notifierd.pipeline.retrier import Retrier
from notifierd.pipeline.retry import symmetric_jitter
from notifierd.store.db import Store

log = logging.getLogger("notifierd.daemon")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Options:
    config_dir: Path
    redis_url: str = "redis://127.0.0.1:6379/0"
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    queue: str = "notifierd:requests"
    key_prefix: str = "notifierd"
    dry_run: bool = False
    consumer_id: str | None = None
    batch: int = 100
    max_in_flight: int = 256  # enough to cover network latency; more only delays recording
    shutdown_timeout: float = 10.0
    heartbeat_ttl: float = 15.0
    watch: bool = True
    http: str | None = None
    escalation_poll: float = 1.0  # safety net: the wake-up timer fires steps when due


class Daemon:
    def __init__(self, options: Options, clock: Callable[[], datetime] = utcnow) -> None:
        self.options = options
        self.clock = clock
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.redis: Any = None
        self.store: Store | None = None
        self.escalation_store: Store | None = None
        self.http: Any = None  # the aiohttp AppRunner while the HTTP listener runs

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the config, connect, migrate, recover, and start every loop."""
        from notifierd.channels.registry import SenderPool
        from notifierd.intake.connect import connect_redis

        opts = self.options
        if opts.http:
            from notifierd.http import parse_address

            parse_address(opts.http)  # a bad --http value fails before connecting to anything
        self.holder = ConfigHolder.load(opts.config_dir)
        self.reloads = Reloads(self.holder)
        self.store = await Store.connect(opts.postgres_url)
        # Escalations get connections of their own: a storm of triggers queueing for the main
        # pool must not make a due step wait behind it.
        self.escalation_store = await Store.connect(
            opts.postgres_url, min_size=1, max_size=2, apply_migrations=False
        )
        self.redis = await connect_redis(opts.redis_url)
        self.keys = Keys(opts.key_prefix, opts.queue)
        self.consumer = Consumer(
            self.redis, self.keys, opts.consumer_id, heartbeat_ttl=opts.heartbeat_ttl
        )
        await self.consumer.start()
        self.senders = SenderPool()
        limiter = RateLimiter(self.redis, self.keys)
        self.deliverer = Deliverer(
            self.senders, limiter, self.clock, symmetric_jitter(), dry_run=opts.dry_run
        )
        self.processor = Processor(self.deliverer, Deduplicator(self.redis, self.keys), self.clock)
        self.recorder = Recorder(self.store, self.consumer)
        self.recorder.start()
        self.retrier = Retrier(self.store, self.deliverer, lambda: self.holder.active)
        self._start_alerts()
        self.intake = Intake(
            self.consumer,
            self.store,
            self.processor,
            self.recorder,
            lambda: self.holder.active,
            self.clock,
            limits=IntakeLimits(batch=opts.batch, max_in_flight=opts.max_in_flight),
            hold_back=lambda: self.escalator.behind,
            waiting_deliveries=lambda: self.deliverer.in_progress,
        )
        recovered = await self.consumer.recover()
        # Our own id held requests when we last stopped (a fixed --consumer-id): back in line.
        recovered += await self.consumer.return_own()
        log.info(
            "notifierd started: config %s, queue %s, consumer %s%s; recovered %d request(s)",
            self.holder.active.id,
            self.keys.queue,
            self.consumer.id,
            " (dry run)" if opts.dry_run else "",
            recovered,
            extra={"event": "started"},
        )
        self._tasks = [
            asyncio.create_task(self.intake.run(self.stopping), name="intake"),
            asyncio.create_task(
                self.retrier.run(self.stopping, drain_timeout=opts.shutdown_timeout),
                name="retrier",
            ),
            asyncio.create_task(self._maintenance_loop(), name="maintenance"),
        ]
        if opts.watch:
            self._tasks.append(asyncio.create_task(self._watch_config(), name="watch"))
        if opts.http:
            try:
                await self.start_http()
            except BaseException:
                await self.stop()  # a port in use must not leave the loops running
                raise

    def _start_alerts(self) -> None:
        from notifierd.alerts.escalator import Escalator
        from notifierd.alerts.service import AlertService
        from notifierd.store.alerts import AlertStore

        assert self.store is not None and self.escalation_store is not None

        def writer(store: Store) -> Callable[[Processed | list[Processed]], Any]:
            async def write(processed: Processed | list[Processed]) -> None:
                batch = processed if isinstance(processed, list) else [processed]
                await store.write_batch(
                    [p.request for p in batch], [d for p in batch for d in p.deliveries]
                )

            return write

        self.alerts = AlertService(
            AlertStore(self.store.pool),
            self.processor,
            writer(self.store),
            lambda: self.holder.active,
            self.clock,
            self.senders,
        )
        self.processor.alerts = self.alerts
        self.escalator = Escalator(
            AlertStore(self.escalation_store.pool),
            self.processor,
            writer(self.escalation_store),
            lambda: self.holder.active,
            self.clock,
            replica=self.consumer.id,
            poll=self.options.escalation_poll,
            vacuum_store=AlertStore(self.store.pool),
        )
        self.alerts.on_opened = self.escalator.planned
        self.escalator.start()
        # Retention shares the escalator's scheduler: hourly, first a minute after start.
        self.escalator.scheduler.add_job(
            self._retention,
            "interval",
            hours=1,
            id="retention",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock() + timedelta(minutes=1),
        )

    async def _retention(self) -> None:
        from notifierd.store.retention import purge

        assert self.store is not None
        days = self.holder.active.snapshot.settings.retention_days
        try:
            await purge(self.store.pool, self.clock() - timedelta(days=days))
        except Exception:
            log.exception("retention pass failed; the next one retries")

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            log.info(
                "stopping: no new requests; finishing those in flight", extra={"event": "stopping"}
            )
            self.stopping.set()
            intake = getattr(self, "intake", None)
            if intake is not None:
                intake.wake()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.create_task(self.reload("SIGHUP")))

    async def run(self) -> None:
        """Start, serve until asked to stop, then stop gracefully."""
        await self.start()
        try:
            await self.stopping.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop taking, finish or return what is in flight, record it, then close. Each step
        runs even when one before it failed (Redis away, say): what can be closed is."""
        self.request_stop()
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("the HTTP listener", self.stop_http),  # no new HTTP intake or acks while draining
            ("the intake", self._stop_intake),
            ("the recorder", self.recorder.stop),
            # Requests of keys we owned until the last acknowledgement may have been handed to
            # us meanwhile: back to the queue too, so we stop holding nothing.
            ("returning handed-over requests", lambda: self.consumer.release([])),
            ("the escalator", lambda: self.escalator.stop(self.options.shutdown_timeout)),
            ("the retrier", self._stop_retrier),
            ("the background loops", self._cancel_tasks),
            ("the consumer", self.consumer.stop),
            ("the channels", self.senders.close),
        ]
        for store in (self.store, self.escalation_store):
            if store is not None:
                steps.append(("a Postgres pool", store.close))
        if self.redis is not None:
            steps.append(("the Redis client", self.redis.aclose))
        for what, step in steps:
            try:
                await step()
            except Exception:
                log.exception("stopping %s failed", what)
        log.info("notifierd stopped", extra={"event": "stopped"})

    async def _stop_intake(self) -> None:
        intake = next((t for t in self._tasks if t.get_name() == "intake"), None)
        if intake is not None:
            # It stops by itself within one fetch timeout; cancel it only if it is stuck.
            _, stuck = await asyncio.wait([intake], timeout=self.options.shutdown_timeout)
            for task in stuck:
                task.cancel()
        await self.intake.finish(self.options.shutdown_timeout)

    async def _stop_retrier(self) -> None:
        # It finishes the retries under way and records them by itself once stopping is set.
        retrier = next((t for t in self._tasks if t.get_name() == "retrier"), None)
        if retrier is not None:
            await asyncio.wait([retrier], timeout=self.options.shutdown_timeout + 5)

    async def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- HTTP listener (notifierd.http) -----------------------------------------------------------

    async def start_http(self) -> None:
        """Serve health, readiness, metrics, reload, the API and Slack on ``options.http``."""
        from notifierd.http import start_http

        assert self.options.http
        self.http = await start_http(self, self.options.http)

    async def stop_http(self) -> None:
        if self.http is not None:
            runner, self.http = self.http, None
            await runner.cleanup()

    async def reload(self, why: str) -> bool:
        return await self.reloads.reload(why)

    # -- background ------------------------------------------------------------------------------

    async def _maintenance_loop(self) -> None:
        """Recover requests held by dead consumers; publish the queue depth."""
        interval = max(1.0, self.options.heartbeat_ttl / 3)
        while not self.stopping.is_set():
            try:
                recovered = await self.consumer.recover()
                if recovered:
                    log.warning(
                        "recovered %d request(s) from a consumer that died",
                        recovered,
                        extra={"event": "recovered"},
                    )
                metrics.QUEUE_DEPTH.set(await self.consumer.queue_depth())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("maintenance pass failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), interval)

    async def _watch_config(self) -> None:
        from watchfiles import awatch

        try:
            async for changes in awatch(
                self.options.config_dir, stop_event=self.stopping, debounce=300, recursive=True
            ):
                names = sorted({Path(p).name for _, p in changes})
                await self.reload(f"files changed: {', '.join(names[:5])}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # watching is a convenience; SIGHUP still works
            log.error(
                "watching %s for changes failed: %s; reload with SIGHUP",
                self.options.config_dir,
                exc,
            )
