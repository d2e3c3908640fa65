"""Escalation timers: APScheduler fires each step at its due time; Postgres decides who fires it.

Every pending step is a row in ``escalation_steps``. A replica fires a step only after claiming it
there (``UPDATE ... FOR UPDATE SKIP LOCKED``), so with several replicas each step fires once; a
claim carries a lease, so a step whose replica died mid-way fires again (its deliveries are
idempotent). APScheduler holds two jobs: a wake-up timer set to the earliest pending step (of any
replica: Postgres says which), moved earlier when this replica plans an earlier one, and a poll
job as the safety net. A step due at once (level 1) starts a pass right away. One pass claims
everything due in batches, so 100,000 alerts cost a handful of timers, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from notifierd import metrics
from notifierd.active import Active
from notifierd.alerts.handoffs import HandoffNotices
from notifierd.alerts.planned import StepsPlanned
from notifierd.pipeline.deliver import Waits
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.oncall import paged_words, unpaged
from notifierd.pipeline.outcome import Known, Processed, Write
from notifierd.pipeline.processor import Processor
from notifierd.reconnect import Outage, until_done
from notifierd.request import Request
from notifierd.status import AlertStatus, StepStatus
from notifierd.store.alerts import AlertStore, DueStep, EscalatedNow
from notifierd.store.db import is_transient, known_deliveries
from notifierd.store.due import DueClock, postgres_clock
from notifierd.store.records import StepRef

log = logging.getLogger("notifierd.escalation")

BATCH = 200  # steps claimed (and fired concurrently) at a time
STEP_RETRY = 5.0  # seconds before a step whose notification failed is due again
BEHIND_AFTER = 0.2  # seconds late at claim time that make new intake wait for escalations
# While steps keep falling due, passes are at least this far apart: each pass costs round trips,
# so a short gap lets a few more steps share one (and bounds how late that makes them).
MIN_GAP = 0.05
# Steps this replica finishes between two VACUUMs of the steps table (see AlertStore.vacuum_steps).
VACUUM_EVERY = 20_000

# Who the timeline names for a level brought forward because the one before it paged no one.
ESCALATED_BY = "notifierd"

# A step's outcome as escalation_steps stores it: (alert, round, level, status).
Done = tuple[str, int, int, StepStatus]
# A timeline entry: (alert, kind, actor, via, detail).
Event = tuple[str, str, str | None, str, str | None]


@dataclass(frozen=True, slots=True)
class _Ready:
    """A claimed step whose notification is about to go out."""

    due: DueStep
    request: Request
    late: float  # seconds after its due time
    channels: str  # where its level sends, for the timeline


class Escalator:
    def __init__(
        self,
        store: AlertStore,
        processor: Processor,
        write: Write,
        active: Callable[[], Active],
        clock: Callable[[], datetime],
        replica: str,
        *,
        poll: float = 1.0,
        lease: float = 120.0,
        vacuum_store: AlertStore | None = None,
        planned: StepsPlanned | None = None,
        due_clock: DueClock = postgres_clock,
        handoffs: HandoffNotices | None = None,
        known: Callable[[list[str]], Awaitable[Known]] | None = None,
    ) -> None:
        self.store = store
        # What the steps' requests already delivered: the daemon's Store looks it up on
        # connections that always use the index (Store.connect).
        self._known = known or (lambda ids: known_deliveries(store.pool, ids))
        self.handoffs = handoffs  # told on each poll: a handoff is noticed within a poll
        # Not the escalation pool: a VACUUM must not hold one of the connections claims use.
        self.vacuum_store = vacuum_store or store
        self.processor = processor
        self.write = write
        self.active = active
        self.clock = clock
        self.due_clock = due_clock  # what claims compare due times with (store/due.py)
        self.replica = replica
        self.poll = poll
        self.lease = lease
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._pass: asyncio.Task[None] | None = None
        self._again = False  # woken while a pass ran: run another right after it
        self._wake_at: datetime | None = None  # when the wake-up job is set for
        self._finished_since_vacuum = 0
        self._vacuum: asyncio.Task[None] | None = None
        self._stopping = False
        # Postgres away: one WARNING line per job and outage, not a traceback per poll.
        self._outage = Outage(log, infrastructure_failure, event="postgres_unavailable")
        # True while due steps wait beyond the batch being fired: the intake then holds back, so
        # an escalation (late already) goes before new requests (which can wait in the queue).
        self.behind = False
        if planned is not None:
            planned.listen(self.planned)

    def start(self) -> None:
        self.scheduler.add_job(
            self.poll_job,
            "interval",
            seconds=self.poll,
            id="escalation-poll",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.start()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop the timers, let the pass under way finish its batch (a step cut off mid-way
        stays claimed until its lease ends, then fires again), and cancel a VACUUM."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._vacuum is not None and not self._vacuum.done():
            self._vacuum.cancel()
        for task in (self._pass, self._vacuum):
            if task is None:
                continue
            done, _ = await asyncio.wait([task], timeout=timeout)
            if not done:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def planned(self, alert_id: str, due: list[datetime]) -> None:
        """A new alert's steps: a step due now starts a pass at once; a later one moves the
        wake-up timer earlier if it is the earliest known."""
        if not due:
            return
        earliest = min(due)
        if earliest <= self.clock():
            self._start_pass()
        else:
            self._wake_by(earliest)

    async def wake(self) -> None:
        """The wake-up job: run a pass now (or right after the one running)."""
        self._wake_at = None  # this job has fired: a later plan must be able to set it again
        self._start_pass()

    async def poll_job(self) -> None:
        """The safety net: steps whose replica died mid-way are due again; then a pass."""
        what = "looking for escalation steps whose replica died"
        try:
            reclaimed = await self.store.reclaim_expired_steps(self.due_clock())
        except asyncio.CancelledError:
            if self._stopping:  # stop() shut the scheduler down, which cancels a running job
                return
            raise
        except Exception as exc:
            self._outage.failed(what, f"the next poll looks again in {self.poll:g}s", exc)
            reclaimed = 0
        else:
            self._outage.succeeded(what)
        if reclaimed:
            log.warning(
                "%d escalation step(s) claimed by a replica that died are due again", reclaimed
            )
        self._start_pass()
        if self.handoffs is not None:
            what = "telling on-call people their shift started"
            try:
                await self.handoffs.run_once()
            except Exception as exc:  # claimed and not sent: that notice is lost, not repeated
                self._outage.failed(what, f"the next poll looks again in {self.poll:g}s", exc)
            else:
                self._outage.succeeded(what)

    def _start_pass(self) -> None:
        if self._stopping:
            return
        if self._pass is not None and not self._pass.done():
            self._again = True
            return
        self._pass = asyncio.get_running_loop().create_task(self._passes(), name="escalation")

    async def _passes(self) -> None:
        while not self._stopping:
            self._again = False
            await self.run_due()
            if self._again:
                await asyncio.sleep(MIN_GAP)
                continue
            # Cleared before asking, so a step planned while we wait for the answer sets the
            # timer itself, and the answer only moves it earlier (never past that step).
            self._wake_at = None
            what = "reading the next due escalation step"
            try:
                upcoming = await self.store.next_due()
            except Exception as exc:
                self._outage.failed(what, f"the next poll looks again in {self.poll:g}s", exc)
                return
            self._outage.succeeded(what)
            if upcoming is not None:
                # Due already by our clock but not by Postgres' (claims use its now()): look
                # again shortly instead of spinning.
                soonest = self.clock() + timedelta(seconds=MIN_GAP)
                self._wake_by(max(upcoming, soonest))
            if not self._again:
                return
            await asyncio.sleep(MIN_GAP)

    def _wake_by(self, at: datetime) -> None:
        """Make the wake-up job fire no later than ``at``."""
        if self._wake_at is not None and self._wake_at <= at:
            return
        if not self.scheduler.running:
            return
        self._wake_at = at
        self.scheduler.add_job(
            self.wake,
            "date",
            run_date=at,
            id="escalation-wake",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_due(self) -> int:
        """Fire every due step this replica can claim, a batch at a time."""
        fired = 0
        what = "claiming due escalation steps"
        try:
            while not self._stopping:
                steps = await self.store.claim_due_steps(
                    BATCH, self.lease, self.replica, self.due_clock()
                )
                # Behind: more is waiting, or what was due is already late.
                self.behind = len(steps) == BATCH or any(
                    (self.clock() - s.due_at).total_seconds() > BEHIND_AFTER for s in steps
                )
                self._outage.succeeded(what)
                if steps:
                    fired += await self._fire_batch(steps)
                if len(steps) < BATCH:
                    self.behind = False
                    return fired
        except Exception as exc:
            self.behind = False
            self._outage.failed(
                what,
                f"the next poll claims what is due in {self.poll:g}s; steps claimed already fire "
                "again when their lease ends",
                exc,
            )
            return fired
        self.behind = False
        return fired

    async def _fire_batch(self, steps: list[DueStep]) -> int:
        """Fire a batch of claimed steps. Each step's outcome stands on its own: a step whose
        notification fails is retried alone, shortly; what was sent is recorded, waiting out
        Postgres if it is away, so a step is never paged twice because another one failed."""
        active = self.active()
        now = self.clock()
        done: list[Done] = []
        events: list[Event] = []
        ready: list[_Ready] = []
        for due in steps:
            step = due.step
            outcome = self._prepare(active, due, now)
            if isinstance(outcome, tuple):
                status, detail = outcome
                done.append((step.alert_id, step.round, step.level, status))
                if detail:
                    events.append((step.alert_id, "step_skipped", None, "escalation", detail))
            else:
                late = (now - due.due_at).total_seconds()
                level = active.snapshot.policies[due.policy or ""].levels[step.level - 1]
                ready.append(_Ready(due, outcome, late, ", ".join(level.channels)))
        fired: list[tuple[_Ready, Processed]] = []
        failed: list[StepRef] = []
        if ready:
            what = "reading the escalation steps' earlier deliveries"
            try:
                known = await self.known([r.request.id for r in ready])
            except Exception as exc:  # nothing sent yet: every step of the batch goes again
                self._outage.failed(
                    what, f"the batch's {len(ready)} step(s) are due again in {STEP_RETRY:g}s", exc
                )
                failed = [r.due.step for r in ready]
                ready = []
            else:
                self._outage.succeeded(what)
            results = await asyncio.gather(
                *(
                    self.processor.process(
                        active,
                        r.request,
                        now,
                        known,
                        lifecycle=False,
                        waits=Waits(quota=self.lease / 2, send_slot=self.lease / 2),
                    )
                    for r in ready
                ),
                return_exceptions=True,
            )
            for item, result in zip(ready, results, strict=True):
                if isinstance(result, BaseException):
                    # Postgres or Redis away is expected now and then; anything else is a bug.
                    transient = infrastructure_failure(result)
                    log.log(
                        logging.WARNING if transient else logging.ERROR,
                        "escalation step %s failed, retried in %.0fs: %s: %s",
                        item.request.id,
                        STEP_RETRY,
                        type(result).__name__,
                        result,
                        extra={"request_id": item.request.id, "event": "escalation_step_failed"},
                    )
                    failed.append(item.due.step)
                else:
                    # The request row names its step: follow-ups and buttons find the alert so.
                    result.request.step = item.due.step
                    fired.append((item, result))
        if fired:
            await self._record([p for _, p in fired])
        for item, result in fired:
            step = item.due.step
            done.append((step.alert_id, step.round, step.level, StepStatus.FIRED))
            events.append(
                (
                    step.alert_id,
                    "escalated",
                    None,
                    "escalation",
                    f"level {step.level} (round {step.round + 1}) to {item.channels}, "
                    f"{item.late:.3f}s after due"
                    + (f", asked for by {item.due.requested_by}" if item.due.requested_by else "")
                    + paged_words(result.deliveries),
                )
            )
            metrics.ESCALATIONS.inc()
            metrics.ESCALATION_LATENESS.observe(max(0.0, item.late))
        await self._durably(
            lambda: self.store.finish_steps(done, events), "recording the steps' outcomes"
        )
        for item, result in fired:
            reason = unpaged(result.deliveries)
            if reason is not None:
                await self._next_level_now(item.due.step, now, reason)
        if failed:
            metrics.ESCALATION_STEP_FAILURES.inc(len(failed))
            await self._durably(
                lambda: self.store.retry_steps_later(
                    [(s.alert_id, s.round, s.level) for s in failed],
                    STEP_RETRY,
                    self.due_clock(),
                ),
                "scheduling failed steps again",
            )
        self._finished_since_vacuum += len(done)
        if self._finished_since_vacuum >= VACUUM_EVERY and (
            self._vacuum is None or self._vacuum.done()
        ):
            self._finished_since_vacuum = 0
            self._vacuum = asyncio.get_running_loop().create_task(self._vacuum_steps())
        return len(fired)

    async def _next_level_now(self, step: StepRef, now: datetime, reason: str) -> None:
        """A level that paged no one (nobody on call, no fallback) must not leave the alert
        unseen until the next level's time: bring it forward as "escalate now" does."""
        try:
            done = await self.store.escalate_now(
                step.alert_id, now, ESCALATED_BY, "escalation", reason
            )
        except Exception as exc:  # the next level still fires at its own time
            log.warning(
                "alert %s: could not bring its next level forward (%s): %s",
                step.alert_id,
                reason,
                exc,
                extra={"request_id": step.request_id, "event": "escalation_step_failed"},
            )
            return
        if isinstance(done, EscalatedNow) and not done.joined:
            log.warning(
                "alert %s: level %d paged no one (%s); level %d (round %d) fires now",
                step.alert_id,
                step.level,
                reason,
                done.step.level,
                done.step.round + 1,
                extra={"request_id": step.request_id, "event": "oncall_unresolved"},
            )
            self._again = True  # the pass under way goes on to claim it

    async def _record(self, processed: list[Processed]) -> None:
        """Record what fired steps sent. They were sent: Postgres being away is waited out; a
        step whose rows Postgres refuses does not cost the others theirs, and still counts as
        fired (firing it again would page people twice)."""
        try:
            await self._durably(lambda: self.write(processed), "recording fired steps")
            return
        except Exception as exc:
            if len(processed) == 1:
                log.error(
                    "Postgres refused the records of escalation step %s: %s",
                    processed[0].request.id,
                    exc,
                )
                return
        for one in processed:
            await self._record([one])

    async def _durably(self, op: Callable[[], Awaitable[object]], what: str) -> None:
        """Run ``op`` until it succeeds, pausing while Postgres is away (not while stopping:
        then the lease brings the steps back)."""
        await until_done(
            op, what=what, retry_if=lambda exc: is_transient(exc) and not self._stopping, logger=log
        )

    async def _vacuum_steps(self) -> None:
        what = "VACUUM of the escalation steps"
        try:
            await self.vacuum_store.vacuum_steps()
        except Exception as exc:
            self._outage.failed(what, "it runs again after more steps", exc)
        else:
            self._outage.succeeded(what)

    def _prepare(
        self, active: Active, due: DueStep, now: datetime
    ) -> Request | tuple[StepStatus, str | None]:
        """The step's notification, or why it does not fire: (status, timeline detail)."""
        step = due.step
        rnd, level_no = step.round, step.level
        if due.alert_status != AlertStatus.TRIGGERED:
            return StepStatus.CANCELLED, None
        late = (now - due.due_at).total_seconds()
        grace = active.snapshot.settings.escalation_misfire_grace
        if late > grace:
            return StepStatus.SKIPPED, (
                f"level {level_no} (round {rnd + 1}) was due {late:.0f}s ago, beyond the "
                f"misfire grace of {grace:.0f}s"
            )
        policy = active.snapshot.policies.get(due.policy or "")
        if policy is None or level_no > len(policy.levels):
            # The reload rule: steps follow the policy as it is now; a level that is gone is skipped.
            return (
                StepStatus.SKIPPED,
                f"policy {due.policy!r} no longer has level {level_no} in config {active.id}",
            )
        level = policy.levels[level_no - 1]
        payload = json.loads(due.payload)
        payload.pop("escalation_policy", None)
        labels = dict(payload.get("labels") or {})
        labels.update({"escalation_level": str(level_no), "escalation_round": str(rnd + 1)})
        if due.requested_by:  # brought forward by a person: the page says who asked
            labels["escalated_by"] = due.requested_by
        title = payload.get("title") or due.title or step.alert_id
        first = (rnd, level_no) == (0, 1)
        return Request.from_dict(
            {
                **payload,
                "id": step.request_id,
                "kind": "alert",
                "action": "trigger",
                "dedup_key": due.dedup_key,
                "channels": list(level.channels),
                "recipients": list(level.recipients) or None,
                "labels": labels,
                "title": title if first else f"[escalation level {level_no}] {title}",
            }
        )

    async def known(self, request_ids: list[str]) -> Known:
        """Deliveries already recorded for these steps (a step refired after its replica died)."""
        return await self._known(request_ids)
