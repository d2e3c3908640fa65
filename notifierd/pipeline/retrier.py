"""Retries: claims due deliveries from Postgres (any replica, SKIP LOCKED) and sends them again."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

from notifierd.channels.base import Failed
from notifierd.config.holder import Active
from notifierd.pipeline.deliver import Deliverer, message_from_json
from notifierd.request import Request
from notifierd.store.db import Store, is_transient
from notifierd.store.records import RetryOutcome

log = logging.getLogger("notifierd.retry")


class Retrier:
    def __init__(
        self,
        store: Store,
        deliverer: Deliverer,
        active: Callable[[], Active],
        *,
        interval: float = 0.25,
        batch: int = 100,
        lease: float = 120.0,
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.active = active
        self.interval = interval
        self.batch = batch
        self.lease = lease

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("retry pass failed: %s", exc, extra={"event": "retry_pass_failed"})
                done = 0
            if done < self.batch:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.interval)

    async def run_once(self) -> int:
        rows = await self.store.claim_due_retries(self.batch, self.lease)
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._retry_safely(row) for row in rows))
        await self._finish(outcomes)
        return len(rows)

    async def _finish(self, outcomes: list[RetryOutcome]) -> None:
        """Record outcomes. They were sent: Postgres being away is waited out (or the lease would
        send them again), and one row Postgres refuses does not hold back the others."""
        delay = 0.1
        while True:
            try:
                await self.store.finish_retries(outcomes)
                return
            except Exception as exc:
                if is_transient(exc):
                    log.error(
                        "recording %d retries failed, retrying in %.1fs: %s",
                        len(outcomes),
                        delay,
                        exc,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                refused = exc
                break
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

    async def _retry_safely(self, row: Any) -> RetryOutcome:
        try:
            return await self._retry(row)
        except Exception as exc:  # a bug in one row must not leave the batch claimed
            log.exception("retrying delivery %s failed", row["id"])
            return RetryOutcome(row["id"], "dead", row["attempts"], f"internal error: {exc}")

    async def _retry(self, row: Any) -> RetryOutcome:
        active = self.active()
        get = row.__getitem__
        request = Request.from_dict(json.loads(get("payload")))
        attempts = get("attempts")
        channel = active.snapshot.channels.get(get("channel"))
        if channel is None or channel.type != get("channel_type"):
            return RetryOutcome(
                get("id"),
                "dead",
                attempts,
                f"channel {get('channel')!r} is no longer in the config ({active.id})",
            )
        if not get("rendered"):
            return RetryOutcome(get("id"), "dead", attempts, "nothing recorded to resend")
        message = message_from_json(get("rendered"))
        try:
            attempt = await self.deliverer.attempt(
                active.snapshot,
                request,
                channel,
                get("recipient") or None,
                message,
                str(get("id")),
                attempts,
                get("received_at"),
                quota_wait=self.lease / 2,
            )
        except Exception as exc:  # keep the delivery: it becomes due again with a fresh delay
            attempt = self.deliverer.failed(
                active.snapshot.settings.retry,
                channel,
                attempts + 1,
                Failed(f"retry error: {exc}", transient=True),
                request.id,
            )
        return RetryOutcome(
            get("id"),
            attempt.status,
            attempt.attempts,
            attempt.error,
            attempt.latency_ms,
            attempt.provider_id,
            attempt.next_attempt_at,
        )
