"""Escalation timers: APScheduler fires each step at its due time; Postgres decides who fires it.

Every pending step is a row in ``escalation_steps``. A replica fires a step only after claiming it
there (``UPDATE ... FOR UPDATE SKIP LOCKED``), so with several replicas each step fires once; a
claim carries a lease, so a step whose replica died mid-way fires again (its deliveries are
idempotent). APScheduler holds one timer per step this replica planned, for punctuality, and a
poll job that picks up steps planned elsewhere or before a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from notifierd import metrics
from notifierd.config.holder import Active
from notifierd.pipeline.processor import Processor
from notifierd.request import Request
from notifierd.store.alerts import AlertStore

log = logging.getLogger("notifierd.escalation")


class Escalator:
    def __init__(
        self,
        store: AlertStore,
        processor: Processor,
        write: Any,
        active: Callable[[], Active],
        clock: Callable[[], datetime],
        replica: str,
        *,
        poll: float = 1.0,
        lease: float = 120.0,
    ) -> None:
        self.store = store
        self.processor = processor
        self.write = write
        self.active = active
        self.clock = clock
        self.replica = replica
        self.poll = poll
        self.lease = lease
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        self.scheduler.add_job(
            self.run_due,
            "interval",
            seconds=self.poll,
            id="escalation-poll",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def timers(self, alert_id: str, due: list[datetime]) -> None:
        """One timer per step of a new alert; they only wake :meth:`run_due` at the right moment."""
        for i, at in enumerate(due):
            self.scheduler.add_job(
                self.run_due,
                "date",
                run_date=at,
                id=f"{alert_id}#{i}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def run_due(self) -> int:
        """Fire every due step this replica can claim."""
        fired = 0
        try:
            while True:
                steps = await self.store.claim_due_steps(100, self.lease, self.replica)
                for step in steps:
                    await self._fire(step)
                    fired += 1
                if len(steps) < 100:
                    return fired
        except Exception:
            log.exception("escalation pass failed; the next one retries")
            return fired

    async def _fire(self, step: Any) -> None:
        alert_id, rnd, level_no, due_at = (
            step["alert_id"],
            step["round"],
            step["level"],
            step["due_at"],
        )
        active = self.active()
        alert = await self.store.find(alert_id)
        if alert is None or alert["status"] != "triggered":
            await self.store.finish_step(alert_id, rnd, level_no, "cancelled")
            return
        late = (self.clock() - due_at).total_seconds()
        grace = active.snapshot.settings.escalation_misfire_grace
        if late > grace:
            await self.store.finish_step(alert_id, rnd, level_no, "skipped")
            await self.store.event(
                alert_id,
                "step_skipped",
                None,
                "escalation",
                f"level {level_no} (round {rnd + 1}) was due {late:.0f}s ago, beyond the "
                f"misfire grace of {grace:.0f}s",
            )
            return
        policy = active.snapshot.policies.get(alert["policy"] or "")
        if policy is None or level_no > len(policy.levels):
            # Explicit reload rule: steps follow the policy as it is now; a level that is gone is skipped.
            await self.store.finish_step(alert_id, rnd, level_no, "skipped")
            await self.store.event(
                alert_id,
                "step_skipped",
                None,
                "escalation",
                f"policy {alert['policy']!r} no longer has level {level_no} in config {active.id}",
            )
            return
        level = policy.levels[level_no - 1]
        original = await self.store.request_payload(alert_id)
        payload = (
            json.loads(original["payload"])
            if original
            else {"title": alert["title"], "message": ""}
        )
        payload.pop("escalation_policy", None)
        labels = dict(payload.get("labels") or {})
        labels.update({"escalation_level": str(level_no), "escalation_round": str(rnd + 1)})
        title = payload.get("title") or alert["title"] or alert_id
        step_request = Request.from_dict(
            {
                **payload,
                "id": f"{alert_id}:r{rnd + 1}l{level_no}",
                "kind": "alert",
                "action": "trigger",
                "dedup_key": alert["dedup_key"],
                "channels": list(level.channels),
                "recipients": list(level.recipients) or None,
                "labels": labels,
                "title": f"[escalation level {level_no}] {title}"
                if (rnd, level_no) != (0, 1)
                else title,
            }
        )
        known = await self.processor_known(step_request.id)
        processed = await self.processor.process(
            active, step_request, self.clock(), known, lifecycle=False
        )
        await self.write(processed)
        await self.store.finish_step(alert_id, rnd, level_no, "fired")
        await self.store.event(
            alert_id,
            "escalated",
            None,
            "escalation",
            f"level {level_no} (round {rnd + 1}) to {', '.join(level.channels)}, "
            f"{late:.3f}s after due",
        )
        metrics.ESCALATIONS.inc()
        metrics.ESCALATION_LATENESS.observe(max(0.0, late))

    async def processor_known(self, request_id: str) -> dict[tuple[str, str, str], str]:
        from notifierd.store.queries import q

        rows = await self.store.pool.fetch(q("known_deliveries"), [request_id])
        return {(r["request_id"], r["channel"], r["recipient"]): r["status"] for r in rows}
