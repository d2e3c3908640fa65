"""The daemon's parts, built once and wired at construction into one frozen value.

``build`` connects to Redis and Postgres, loads the config and creates every part with what it
needs; nothing is assigned afterwards. The daemon (``daemon.py``) only starts, reloads and stops
them. A request's path through them is in ARCHITECTURE.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from redis.asyncio import Redis

from notifierd.active import Active, ConfigHolder
from notifierd.alerts.escalator import Escalator
from notifierd.alerts.handoffs import HandoffNotices
from notifierd.alerts.heartbeats import Heartbeats
from notifierd.alerts.planned import StepsPlanned
from notifierd.alerts.service import AlertService
from notifierd.channels.registry import SenderPool
from notifierd.defaults import SHARED_VALIDATION_ENV
from notifierd.intake.claim import WorkerClaim, claim_worker_id
from notifierd.intake.consumer import Consumer
from notifierd.intake.queues import Queues
from notifierd.offloop import SharedValidation, validate_in_child
from notifierd.options import Options, WorkerSlot
from notifierd.pipeline.dedup import Deduplicator
from notifierd.pipeline.deliver import Deliverer
from notifierd.pipeline.deliveries import Deliveries
from notifierd.pipeline.digest import Digester
from notifierd.pipeline.intake import Intake, IntakeLimits
from notifierd.pipeline.outcome import Processed, Write
from notifierd.pipeline.processor import Processor
from notifierd.pipeline.ratelimit import RateLimiter
from notifierd.pipeline.recorder import Recorder
from notifierd.pipeline.retrier import Retrier
from notifierd.pipeline.retry import symmetric_jitter
from notifierd.redisio.connect import connect_redis
from notifierd.redisio.keys import Keys
from notifierd.reloads import Reloads
from notifierd.runtime.changes import RuntimeChanges
from notifierd.runtime.refresh import RuntimeRefresher
from notifierd.store.alerts import AlertStore
from notifierd.store.audit import AuditLog
from notifierd.store.db import Store
from notifierd.store.due import DueClock, postgres_clock
from notifierd.store.heartbeats import HeartbeatStore
from notifierd.store.runtime import RuntimeStore

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Services:
    holder: ConfigHolder
    reloads: Reloads
    store: Store
    escalation_store: Store  # escalations' own connections: a storm of triggers cannot delay them
    redis: Redis
    keys: Keys
    queues: Queues  # the default queue and every producer queue the config names
    senders: SenderPool
    deliverer: Deliverer
    processor: Processor
    recorder: Recorder
    retrier: Retrier
    digester: Digester  # sends what rate limits with overflow: digest set aside
    alerts: AlertService
    escalator: Escalator
    intake: Intake
    heartbeats: Heartbeats
    audit: AuditLog  # who did what: the alert actions, retries, sign-ins, silences, reloads
    runtime: RuntimeChanges  # run-time silences and overrides: added, ended, audited
    refresher: RuntimeRefresher  # lays them over the active config about once a second

    def active(self) -> Active:
        return self.holder.active

    @property
    def consumer(self) -> Consumer:
        """The default queue's consumer."""
        return self.queues.default


# How long a daemon's second and later workers pause when a take found nothing (IntakeLimits).
# The first waits on the queue in Redis; a worker of slot 1 or later joins a burst within this,
# and takes over within it when the first is down (until the supervisor starts it again).
SIBLING_IDLE_POLL = 0.02


def idle_poll(slot: WorkerSlot | None) -> float | None:
    """None (wait in Redis) for a daemon's first worker and a daemon without a supervisor."""
    return SIBLING_IDLE_POLL if slot is not None and slot.index > 0 else None


def writer(store: Store) -> Write:
    """Write what alerts send themselves (follow-ups, escalation steps) straight to ``store``."""

    async def write(batch: Sequence[Processed]) -> None:
        await store.write_batch(
            [p.request for p in batch], [d for p in batch for d in p.deliveries]
        )

    return write


async def build(settings: Options, clock: Clock, due_clock: DueClock = postgres_clock) -> Services:
    """Load the config, connect, migrate, and build every part; closes what it opened when a
    later step fails. ``due_clock``: see notifierd/store/due.py."""
    # The first load and the reloads validate in a forked child: the event loop keeps serving
    # meanwhile, and what validating allocates never swells this process (notifierd/active.py).
    # A supervisor's workers validate each config once between them (offloop.SharedValidation).
    shared = os.environ.get(SHARED_VALIDATION_ENV)
    holder = ConfigHolder.load(
        settings.config_dir,
        fallback=settings.last_good_config,
        validate=SharedValidation(Path(shared)) if shared else validate_in_child,
    )
    opened: list[Callable[[], object]] = []
    try:
        store = await Store.connect(settings.postgres_url)
        opened.append(store.close)
        escalation_store = await Store.connect(
            settings.postgres_url, min_size=1, max_size=2, apply_migrations=False
        )
        opened.append(escalation_store.close)
        redis = await connect_redis(settings.redis_url)
        opened.append(redis.aclose)
        keys = Keys(settings.key_prefix, settings.queue)
        claim: WorkerClaim | None = None
        if settings.consumer_id is None and settings.worker_slot is not None:
            claim = await claim_worker_id(redis, keys, settings.worker_slot, settings.heartbeat_ttl)
    except BaseException:
        for close in reversed(opened):
            await close()  # type: ignore[misc]
        raise

    def active() -> Active:
        return holder.active

    queues = Queues(
        redis, keys, settings.consumer_id, heartbeat_ttl=settings.heartbeat_ttl, claim=claim
    )
    senders = SenderPool()
    deliverer = Deliverer(
        senders, RateLimiter(redis, keys), clock, symmetric_jitter(), dry_run=settings.dry_run
    )
    deliveries = Deliveries(deliverer)
    planned = StepsPlanned()
    audit = AuditLog(store.pool)
    alerts = AlertService(
        AlertStore(store.pool),
        deliveries,
        writer(store),
        active,
        clock,
        planned,
        senders,
        audit,
    )

    async def enqueue(payload: bytes) -> None:
        await redis.lpush(keys.queue, payload)  # type: ignore[misc]

    heartbeats = Heartbeats(HeartbeatStore(store.pool), alerts, enqueue, due_clock)
    processor = Processor(deliveries, Deduplicator(redis, keys), clock, alerts, heartbeats)
    escalator = Escalator(
        AlertStore(escalation_store.pool),
        processor,
        writer(escalation_store),
        active,
        clock,
        replica=queues.default.id,
        poll=settings.escalation_poll,
        vacuum_store=AlertStore(store.pool),
        planned=planned,
        due_clock=due_clock,
        handoffs=HandoffNotices(
            AlertStore(escalation_store.pool), processor, writer(escalation_store), active, clock
        ),
        known=escalation_store.known_deliveries,
    )
    recorder = Recorder(store)
    intake = Intake(
        queues,
        store,
        processor,
        recorder,
        active,
        clock,
        limits=IntakeLimits(
            batch=settings.batch,
            max_in_flight=settings.max_in_flight,
            idle_poll=idle_poll(settings.worker_slot),
        ),
        hold_back=lambda: escalator.behind,
        waiting_deliveries=lambda: deliverer.in_progress,
    )
    return Services(
        holder=holder,
        reloads=Reloads(holder),
        store=store,
        escalation_store=escalation_store,
        redis=redis,
        keys=keys,
        queues=queues,
        senders=senders,
        deliverer=deliverer,
        processor=processor,
        recorder=recorder,
        retrier=Retrier(store, deliverer, active, due_clock=due_clock),
        digester=Digester(store, deliverer, deliverer.limiter, active),
        alerts=alerts,
        escalator=escalator,
        intake=intake,
        heartbeats=heartbeats,
        audit=audit,
        runtime=RuntimeChanges(RuntimeStore(store.pool), audit, clock),
        refresher=RuntimeRefresher(RuntimeStore(store.pool), holder, clock),
    )
