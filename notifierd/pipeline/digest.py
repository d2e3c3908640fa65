"""Digest instead of delay: what a rate limit with ``overflow: digest`` held too long goes out
as one message per channel and recipient.

The deliver stage sets such a delivery aside as ``held`` (a Postgres row, so nothing held is
lost with a replica). Here, on every replica, each pass claims the held deliveries of one
channel and recipient with ``SKIP LOCKED``, takes one slot of the channel's limits (a digest is
a message like any other), sends the digest and, before the claim's transaction commits,
records the digest as a delivery and each original as ``digested`` into it. Postgres decides
which replica lists a held delivery, so each is listed in exactly one recorded digest; a crash
before the commit leaves them held for the next pass (the digest may then go out again, as any
send whose answer was not recorded does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC

from notifierd.active import Active
from notifierd.config.model import Channel, RateLimit
from notifierd.pipeline.deliver import (
    DIGEST_METADATA,
    Deliverer,
    Waits,
    held_for_digest_after,
    message_json,
)
from notifierd.pipeline.failures import infrastructure_failure
from notifierd.pipeline.ratelimit import RateLimiter, limits_for
from notifierd.reconnect import Outage
from notifierd.request import Request
from notifierd.store.db import Store
from notifierd.store.digests import (
    DigestRecord,
    HeldDelivery,
    claimed_held,
    held_recipients,
    record_digest,
    release_held,
)
from notifierd.store.records import delivery_id
from notifierd.templates import RenderedMessage

log = logging.getLogger(__name__)

# Lines one digest lists at most; more held wait for the next digest.
DIGEST_MAX_LINES = 500


def digest_title(count: int) -> str:
    return f"{count} notification{'' if count == 1 else 's'} held by the rate limit"


def digest_text(held: Sequence[HeldDelivery]) -> str:
    """One line per held delivery: when its request came (UTC) and its title."""
    return "\n".join(f"{h.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC  {h.title}" for h in held)


class Digester:
    def __init__(
        self,
        store: Store,
        deliverer: Deliverer,
        limiter: RateLimiter | None,
        active: Callable[[], Active],
        *,
        interval: float = 0.25,
        max_lines: int = DIGEST_MAX_LINES,
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.limiter = limiter
        self.active = active
        self.interval = interval
        self.max_lines = max_lines
        self._outage = Outage(log, infrastructure_failure, event="digest_pass_failed")

    async def run(self, stopping: asyncio.Event) -> None:
        """Send digests until ``stopping`` is set."""
        while not stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._outage.failed("sending digests", f"the next pass in {self.interval:g}s", exc)
            else:
                self._outage.succeeded("sending digests")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval)

    async def run_once(self) -> int:
        """One digest for each channel and recipient with held deliveries that the limits let
        through now; returns how many were sent."""
        active = self.active()
        digesting = {
            channel.name: (channel, limits)
            for channel in active.snapshot.channels.values()
            if held_for_digest_after(limits := limits_for(active.snapshot.rate_limits, channel))
        }
        released = await release_held(self.store.pool, list(digesting))
        if released:
            log.info(
                "%d held delivery(ies) of channels that no longer digest: sent one by one",
                released,
                extra={"event": "digest_released"},
            )
        sent = 0
        for channel, limits in digesting.values():
            for recipient in await held_recipients(self.store.pool, channel.name):
                sent += await self._digest(active, channel, limits, recipient)
        return sent

    async def _digest(
        self, active: Active, channel: Channel, limits: Sequence[RateLimit], recipient: str
    ) -> int:
        pool = self.store.pool
        async with claimed_held(pool, channel.name, recipient, self.max_lines) as (conn, held):
            if not held:
                return 0  # none, or another replica is sending them
            if self.active().id != active.id:
                return 0  # reloaded meanwhile: see below; no slot taken for nothing
            if self.limiter is not None and any(await self.limiter.try_acquire_all(limits)):
                return 0  # no slot now: they stay held, claimed again next pass
            if self.active().id != active.id:
                # A reload came while this pass waited: the new config may no longer digest
                # this channel (the next pass sends them one by one), and a slot granted under
                # the old limits proves nothing — the new limit's calls trim the shared window
                # to their own length. They stay held for the next pass to decide.
                return 0
            now = self.deliverer.clock()
            request_id = f"digest-{uuid.uuid4()}"
            title, text = digest_title(len(held)), digest_text(held)
            payload = {
                "id": request_id,
                "title": title,
                "message": text,
                "metadata": {DIGEST_METADATA: len(held)},
            }
            message = RenderedMessage(subject=title, text=text)
            did = delivery_id(request_id, channel.name, recipient)
            attempt = await self.deliverer.attempt(
                active.snapshot,
                Request.from_dict(payload),
                channel,
                recipient or None,
                message,
                str(did),
                0,
                now,
                waits=Waits(send_slot=30.0),
                quota_taken=True,
            )
            await record_digest(
                conn,
                DigestRecord(
                    id=did,
                    request_id=request_id,
                    payload=json.dumps(payload),
                    channel=channel.name,
                    channel_type=channel.type,
                    recipient=recipient,
                    status=attempt.status,
                    attempts=attempt.attempts,
                    error=attempt.error,
                    latency_ms=attempt.latency_ms,
                    rendered=message_json(message),
                    provider_id=attempt.provider_id,
                    snapshot_id=active.id,
                    next_attempt_at=attempt.next_attempt_at,
                    received_at=now,
                ),
                [h.id for h in held],
            )
            log.info(
                "digest of %d held notification(s) to %s %s: %s",
                len(held),
                channel.name,
                recipient or "(its target)",
                attempt.status,
                extra={"request_id": request_id, "event": "digest"},
            )
            return 1
