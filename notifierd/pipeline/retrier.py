"""Retries: claims due deliveries from Postgres (any replica, SKIP LOCKED) and sends them again.

Each channel's retries have their own room: a round claims, per channel, only as many due
retries as that channel has free (its ``max_in_flight``), each claimed retry goes out on its
own, and its outcome is recorded as soon as it is known (batched with whatever else finished).
So a receiver that never answers holds back only its own retries, and a slow send never keeps
another's outcome from Postgres — or past its lease, where another replica would send it again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable

from notifierd.active import Active
from notifierd.channels.base import Failed
from notifierd.pipeline.deliver import Deliverer, Waits, message_from_json
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.fallback import Died, fallback_deliveries
from notifierd.pipeline.oncall import mentioning, resolve_schedule
from notifierd.pipeline.render import Renderer
from notifierd.pipeline.sendslots import max_in_flight
from notifierd.reconnect import Outage, until_done
from notifierd.request import Request
from notifierd.schedules.paging import Paged, Unpaged
from notifierd.status import DeliveryStatus
from notifierd.store.db import Store, is_transient
from notifierd.store.due import DueClock, postgres_clock
from notifierd.store.records import RetryOutcome
from notifierd.store.rows import DueRetry

log = logging.getLogger("notifierd.retry")

# Retries of channels gone from the config claimed per round (each is recorded dead).
ELSEWHERE = 100


class Retrier:
    def __init__(
        self,
        store: Store,
        deliverer: Deliverer,
        active: Callable[[], Active],
        *,
        interval: float = 0.25,
        lease: float = 120.0,
        record_batch: int = 200,
        due_clock: DueClock = postgres_clock,
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.active = active
        self.interval = interval
        self.lease = lease
        self.record_batch = record_batch
        self.due_clock = due_clock  # what claims compare due times with (store/due.py)
        self._busy: collections.Counter[str] = collections.Counter()  # claimed, per channel
        self._tasks: set[asyncio.Task[None]] = set()
        self._outcomes: asyncio.Queue[RetryOutcome] = asyncio.Queue()
        self._room = asyncio.Event()  # a retry finished: its channel has room again
        # Postgres away: one WARNING line per outage, not an ERROR per pass.
        self._outage = Outage(log, infrastructure_failure, event="retry_pass_failed")

    async def run(self, stopping: asyncio.Event, *, drain_timeout: float = 10.0) -> None:
        """Claim and send until ``stopping`` is set; then let the retries under way finish (for
        up to ``drain_timeout`` s: one cut off stays claimed, and its lease brings it back) and
        record every outcome known."""
        recorder = asyncio.create_task(self._record_outcomes(), name="retry-recorder")
        try:
            while not stopping.is_set():
                try:
                    claimed = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._outage.failed(
                        "claiming due retries", f"the next pass in {self.interval:g}s", exc
                    )
                    claimed = 0
                else:
                    self._outage.succeeded("claiming due retries")
                if not claimed:
                    self._room.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(_first(stopping, self._room), self.interval)
            if self._tasks:
                _, cut = await asyncio.wait(list(self._tasks), timeout=drain_timeout)
                for task in cut:
                    task.cancel()
                await asyncio.gather(*cut, return_exceptions=True)
            await self._outcomes.join()
        finally:
            recorder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recorder

    async def run_once(self) -> int:
        """Claim what each channel has room for and start sending it; returns how many."""
        active = self.active()
        room = {
            name: max_in_flight(channel) - self._busy[name]
            for name, channel in active.snapshot.channels.items()
        }
        rows = await self.store.claim_due_retries(
            room, self.lease, elsewhere=ELSEWHERE, now=self.due_clock()
        )
        for row in rows:
            self._busy[row.channel] += 1
            task = asyncio.create_task(self._retry_and_report(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _retry_and_report(self, row: DueRetry) -> None:
        try:
            outcome = await self._retry_safely(row)
            self._outcomes.put_nowait(outcome)
        finally:
            self._busy[row.channel] -= 1
            self._room.set()

    async def _record_outcomes(self) -> None:
        """Record outcomes as they come, a batch at a time."""
        while True:
            batch = [await self._outcomes.get()]
            await asyncio.sleep(0.005)  # let the outcomes finishing together share one write
            while len(batch) < self.record_batch and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            await self._finish(batch)
            for _ in batch:
                self._outcomes.task_done()

    async def _finish(self, outcomes: list[RetryOutcome]) -> None:
        """Record outcomes. They were sent: Postgres being away is waited out (or the lease would
        send them again), and one row Postgres refuses does not hold back the others."""
        try:
            await until_done(
                lambda: self.store.finish_retries(outcomes),
                what=f"recording {len(outcomes)} retries",
                retry_if=is_transient,
                logger=log,
            )
            return
        except Exception as exc:
            refused = exc
        if len(outcomes) > 1:
            for outcome in outcomes:
                await self._finish([outcome])
            return
        [outcome] = outcomes
        log.error("Postgres refused the outcome of retry %s: %s", outcome.id, refused)
        # Without the provider's texts, which are what a refusal is made of: left claimed, the
        # row would be sent again each time its lease ends.
        plain = dataclasses.replace(
            outcome,
            last_error=f"(the error could not be stored: {refused})"[:500],
            provider_id=None,
        )
        try:
            await self.store.finish_retries([plain])
        except Exception:
            log.exception("could not record retry %s even without its texts", outcome.id)

    async def _retry_safely(self, row: DueRetry) -> RetryOutcome:
        try:
            return await self._retry(row)
        except Exception as exc:  # a bug in one row must not leave it claimed
            log.exception("retrying delivery %s failed", row.id)
            return RetryOutcome(row.id, DeliveryStatus.DEAD, row.attempts, f"internal error: {exc}")

    async def _retry(self, row: DueRetry) -> RetryOutcome:
        active = self.active()
        request = Request.from_dict(json.loads(row.payload))
        attempts = row.attempts
        channel = active.snapshot.channels.get(row.channel)
        if channel is None or channel.type != row.channel_type:
            return RetryOutcome(
                row.id,
                DeliveryStatus.DEAD,
                attempts,
                f"channel {row.channel!r} is no longer in the config ({active.id})",
            )
        if not row.rendered:
            return RetryOutcome(row.id, DeliveryStatus.DEAD, attempts, "nothing recorded to resend")
        message = message_from_json(row.rendered)
        # A schedule delivery goes where its first attempt resolved it, even after a handoff;
        # one that paged nobody then (put back from the dead letters) is resolved now.
        address = row.resolved_address or row.recipient or None
        paged: Paged | None = None
        if row.resolved_address is None:
            found = resolve_schedule(
                active.snapshot, row.recipient, channel, request, self.deliverer.clock()
            )
            if isinstance(found, Unpaged):
                return RetryOutcome(row.id, DeliveryStatus.DEAD, attempts, found.reason)
            paged = found
            if paged is not None:
                address = paged.address
                message = mentioning(message, paged)
        try:
            attempt = await self.deliverer.attempt(
                active.snapshot,
                request,
                channel,
                address,
                message,
                str(row.id),
                attempts,
                row.received_at,
                waits=Waits(quota=self.lease / 2, send_slot=self.lease / 2),
            )
        except Exception as exc:  # keep the delivery: it becomes due again with a fresh delay
            attempt = self.deliverer.failed(
                active.snapshot.settings.retry,
                channel,
                attempts + 1,
                Failed(f"retry error: {exc}", transient=True),
                request.id,
            )
        outcome = RetryOutcome(
            row.id,
            attempt.status,
            attempt.attempts,
            attempt.error,
            attempt.latency_ms,
            attempt.provider_id,
            attempt.next_attempt_at,
        )
        if paged is not None:
            outcome.resolved_person, outcome.resolved_via = paged.person, paged.via
            outcome.resolved_address = paged.address
        # Its retries spent (or a permanent answer now): its channel's fallbacks are written with
        # this outcome. A fallback delivery that dies does not fall back again (one hop).
        if attempt.status == DeliveryStatus.DEAD and channel.fallback and row.fallback_of is None:
            died = Died(row.id, channel, row.recipient, row.template, attempt.error)
            outcome.fallbacks = fallback_deliveries(
                active, request, Renderer(active.catalog, request), died, self.deliverer.clock()
            )
        return outcome


async def _first(*events: asyncio.Event) -> None:
    """Return when any of ``events`` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
