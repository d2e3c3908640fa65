"""The deliver stage: rate limit, send (or dry-run), classify the result into a delivery status."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notifierd import jsonenc, metrics
from notifierd.channels.base import Delivered, Failed, Outbound, Senders
from notifierd.channels.registry import pace_bucket
from notifierd.config.model import Channel, RateLimit, RetrySettings, Snapshot
from notifierd.pipeline.breaker import Breakers
from notifierd.pipeline.pacing import Pacer
from notifierd.pipeline.ratelimit import RateLimiter, RateLimitTimeout, limits_for
from notifierd.pipeline.retry import Jitter, next_delay
from notifierd.pipeline.sendslots import SendSlots, max_in_flight
from notifierd.request import Request
from notifierd.status import DeliveryStatus
from notifierd.templates import RenderedMessage
from notifierd.valueclass import value_class

log = logging.getLogger("notifierd.deliver")

Clock = Callable[[], datetime]


@value_class
class Attempt:
    """The outcome of one attempt, ready to be recorded."""

    status: DeliveryStatus  # delivered, dry_run, retrying or dead
    attempts: int
    error: str | None = None
    latency_ms: float | None = None
    provider_id: str | None = None
    next_attempt_at: datetime | None = None


_MESSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(RenderedMessage))


def message_json(message: RenderedMessage) -> str:
    # Not dataclasses.asdict: it deep-copies every block and card only to serialize them.
    return jsonenc.dumps_text({name: getattr(message, name) for name in _MESSAGE_FIELDS})


def message_from_json(text: str) -> RenderedMessage:
    data: dict[str, Any] = json.loads(text)
    data["variants"] = tuple(data.get("variants") or ())
    return RenderedMessage(**data)


@dataclass(frozen=True, slots=True)
class Waits:
    """The longest one attempt waits in memory — for rate-limit quota, for a free send slot of
    its channel — before it is recorded ``retrying`` (not an attempt) for the retrier instead.
    None: as long as it takes. The intake bounds the slot (one channel's backlog must not hold
    the requests of others); the retrier and escalation steps bound both below their lease."""

    quota: float | None = None
    send_slot: float | None = None


UNBOUNDED = Waits()

# A delivery waits in memory for its turn at a provider that rate-limited us at most this long;
# a longer wait is recorded (retrying, not an attempt) and the retrier brings it back in time.
PACE_WAIT_IN_MEMORY = 1.0


def held_for_digest_after(limits: Sequence[RateLimit]) -> float | None:
    """The shortest ``digest_after`` of the limits that digest what they hold, if any."""
    return min(
        (lim.digest_after for lim in limits if lim.digests and lim.digest_after), default=None
    )


# The metadata key a digest's own request carries (pipeline/digest.py): how many it lists.
DIGEST_METADATA = "notifierd_digest_of"


def is_digest(request: Request) -> bool:
    return DIGEST_METADATA in request.metadata


def held_note(exc: RateLimitTimeout) -> str:
    return f"held by rate limit {exc.limit.key} (overflow: digest): {exc}; sent in a digest"


class Deliverer:
    """Sends one delivery: waits for rate-limit quota and the provider's pace, calls the
    channel's sender, classifies the result."""

    def __init__(
        self,
        senders: Senders,
        limiter: RateLimiter | None,
        clock: Clock,
        jitter: Jitter,
        *,
        dry_run: bool = False,
        pacer: Pacer | None = None,
    ) -> None:
        self.senders = senders
        self.limiter = limiter
        self.clock = clock
        self.jitter = jitter
        self.dry_run = dry_run
        self.pacer = pacer or Pacer(time.time)
        self.in_progress = 0  # deliveries between their start and their outcome, waits included
        self.slots = SendSlots()
        self.breakers = Breakers(time.monotonic)
        # The limits of each channel under the snapshot they were read from (see _limits).
        self._limits_of: tuple[Snapshot | None, dict[tuple[str, str], tuple[RateLimit, ...]]] = (
            None,
            {},
        )

    def _limits(self, snapshot: Snapshot, channel: Channel) -> tuple[RateLimit, ...]:
        """``limits_for`` once per channel and snapshot, not once per delivery."""
        read_from, by_channel = self._limits_of
        if read_from is not snapshot:
            by_channel = {}
            self._limits_of = (snapshot, by_channel)
        key = (channel.name, channel.type)
        limits = by_channel.get(key)
        if limits is None:
            limits = by_channel[key] = limits_for(snapshot.rate_limits, channel)
        return limits

    async def attempt(
        self,
        snapshot: Snapshot,
        request: Request,
        channel: Channel,
        recipient: str | None,
        message: RenderedMessage,
        delivery_id: str,
        attempts_before: int,
        received_at: datetime,
        reply_to: str | None = None,
        *,
        waits: Waits = UNBOUNDED,
        quota_taken: bool = False,
    ) -> Attempt:
        """One attempt; ``waits`` bounds its waiting in memory (see Waits). ``quota_taken``: the
        caller already took its rate-limit slot (a digest, pipeline/digest.py)."""
        self.in_progress += 1
        try:
            return await self._attempt(
                snapshot,
                request,
                channel,
                recipient,
                message,
                delivery_id,
                attempts_before,
                received_at,
                reply_to,
                waits,
                quota_taken,
            )
        finally:
            self.in_progress -= 1

    async def _attempt(
        self,
        snapshot: Snapshot,
        request: Request,
        channel: Channel,
        recipient: str | None,
        message: RenderedMessage,
        delivery_id: str,
        attempts_before: int,
        received_at: datetime,
        reply_to: str | None,
        waits: Waits,
        quota_taken: bool,
    ) -> Attempt:
        attempts = attempts_before + 1
        bucket = pace_bucket(channel, recipient)
        paced = self.pacer.paced(bucket)
        if paced:
            wait = await self.pacer.turn(bucket, delivery_id, PACE_WAIT_IN_MEMORY)
            if wait > 0:  # the provider asked us to slow down: wait elsewhere, not an attempt
                return self._throttled(
                    snapshot.settings.retry,
                    channel,
                    attempts_before,
                    wait,
                    received_at,
                    request.id,
                    "waiting for its turn at the provider, which rate-limited earlier deliveries",
                )
        if self.limiter is not None and not quota_taken:
            limits = self._limits(snapshot, channel)
            if limits:
                # A digest is never held for another digest: it waits its turn like any message.
                digest_after = None if is_digest(request) else held_for_digest_after(limits)
                max_wait = waits.quota
                if digest_after is not None and (max_wait is None or digest_after <= max_wait):
                    max_wait = digest_after
                try:
                    await self.limiter.acquire(limits, max_wait=max_wait)
                except RateLimitTimeout as exc:
                    if max_wait == digest_after:
                        # Waited long enough: set aside for the channel's next digest.
                        return Attempt(DeliveryStatus.HELD, attempts_before, held_note(exc))
                    log.info(
                        "%s: %s; retried then",
                        channel.name,
                        exc,
                        extra={"request_id": request.id, "event": "quota_wait"},
                    )
                    at = self.clock() + timedelta(seconds=exc.retry_after)
                    return Attempt(
                        DeliveryStatus.RETRYING,
                        attempts_before,
                        f"waiting for quota: {exc}",
                        next_attempt_at=at,
                    )
        if self.dry_run:
            log.info(
                "dry run: would send to %s %s",
                channel.name,
                recipient or "(its target)",
                extra={
                    "request_id": request.id,
                    "event": "dry_run",
                    "channel": channel.name,
                    "payload": message.for_channel(channel.type),
                },
            )
            return self._done(DeliveryStatus.DRY_RUN, channel, attempts, received_at, None)
        outbound = Outbound(
            delivery_id=delivery_id,
            request=request,
            channel=channel,
            recipient=recipient,
            message=message,
            reply_to=reply_to,
        )
        closed_for = self.breakers.closed_for(channel.name)
        if closed_for is not None:  # it has not been answering: fail now, not after a timeout
            return self.failed(
                snapshot.settings.retry,
                channel,
                attempts,
                self._unanswered(channel, closed_for),
                request.id,
            )
        if not await self.slots.take(channel, waits.send_slot):
            # Its backlog waits in Postgres for the retrier, not in front of other channels.
            return Attempt(
                DeliveryStatus.RETRYING,
                attempts_before,
                f"waiting for a send slot: {channel.name} had {max_in_flight(channel)} sends "
                "under way",
                next_attempt_at=self.clock(),
            )
        try:
            # Again: while it waited for a slot, the sends before it may have found the
            # receiver silent.
            closed_for = self.breakers.closed_for(channel.name)
            if closed_for is not None:
                return self.failed(
                    snapshot.settings.retry,
                    channel,
                    attempts,
                    self._unanswered(channel, closed_for),
                    request.id,
                )
            # Only a paced bucket's sends have a time that matters (see Pacer.refused): the
            # others count as sent before any slow-down.
            sent_at = self.pacer.now() if paced else float("-inf")
            try:
                result = await self.senders.get(channel).send(outbound)
            except Exception as exc:  # a sender bug must not lose the delivery: retry it
                log.exception(
                    "sender for %s raised", channel.name, extra={"request_id": request.id}
                )
                result = Failed(reason=f"sender error: {type(exc).__name__}: {exc}", transient=True)
        finally:
            self.slots.give_back(channel)
        if isinstance(result, Failed) and result.transient and result.status_code is None:
            self.breakers.unanswered(channel.name)
        else:
            self.breakers.answered(channel.name)
        if isinstance(result, Delivered):
            self.pacer.accepted(bucket)
            return self._done(
                DeliveryStatus.DELIVERED, channel, attempts, received_at, result.provider_id
            )
        if result.rate_limited:
            wait = self.pacer.refused(bucket, delivery_id, result.retry_after, sent_at)
            return self._throttled(
                snapshot.settings.retry,
                channel,
                attempts_before,
                wait,
                received_at,
                request.id,
                result.reason,
            )
        return self.failed(snapshot.settings.retry, channel, attempts, result, request.id)

    def _unanswered(self, channel: Channel, closed_for: float) -> Failed:
        return Failed(
            f"not sent: {channel.name} answered none of its last "
            f"{self.breakers.silent_count(channel.name)} sends (no answer within its timeout, "
            f"or no connection); one is tried again in {closed_for:.0f}s",
            transient=True,
        )

    def _throttled(
        self,
        retry: RetrySettings,
        channel: Channel,
        attempts: int,
        wait: float,
        received_at: datetime,
        request_id: str,
        reason: str,
    ) -> Attempt:
        """A wait for the provider's rate limit: retrying at its turn, the attempt not counted,
        until the retry deadline."""
        at = self.clock() + timedelta(seconds=wait)
        if (at - received_at).total_seconds() > retry.deadline:
            return self._dead(
                channel,
                attempts,
                f"rate-limited by the provider for longer than the retry deadline "
                f"({retry.deadline:g}s): {reason}",
                request_id,
            )
        metrics.RATE_LIMITED.labels(channel.name).inc()
        metrics.DELIVERIES_BY(channel.name, "retrying").inc()
        log.info(
            "%s rate-limited us; this delivery's turn is in %.1fs: %s",
            channel.name,
            wait,
            reason,
            extra={"request_id": request_id, "event": "rate_limited"},
        )
        return Attempt(
            DeliveryStatus.RETRYING, attempts, f"rate limited: {reason}", next_attempt_at=at
        )

    def failed(
        self, retry: RetrySettings, channel: Channel, attempts: int, result: Failed, request_id: str
    ) -> Attempt:
        if result.transient:
            delay = next_delay(attempts, retry, self.jitter, result.retry_after)
            if delay is not None:
                metrics.RETRIES.labels(channel.name).inc()
                metrics.DELIVERIES_BY(channel.name, "retrying").inc()
                log.warning(
                    "%s failed (attempt %d), retrying in %.1fs: %s",
                    channel.name,
                    attempts,
                    delay,
                    result.reason,
                    extra={"request_id": request_id, "event": "retrying"},
                )
                return Attempt(
                    DeliveryStatus.RETRYING,
                    attempts,
                    result.reason,
                    next_attempt_at=self.clock() + timedelta(seconds=delay),
                )
            error = f"gave up after {attempts} attempts: {result.reason}"
        else:
            error = result.reason
        return self._dead(channel, attempts, error, request_id)

    def _dead(self, channel: Channel, attempts: int, error: str, request_id: str) -> Attempt:
        metrics.DEAD_LETTERS.labels(channel.name).inc()
        metrics.DELIVERIES_BY(channel.name, "dead").inc()
        log.error(
            "%s failed permanently: %s",
            channel.name,
            error,
            extra={"request_id": request_id, "event": "dead_letter"},
        )
        return Attempt(DeliveryStatus.DEAD, attempts, error)

    def _done(
        self,
        status: DeliveryStatus,
        channel: Channel,
        attempts: int,
        received_at: datetime,
        provider_id: str | None,
    ) -> Attempt:
        latency = max(0.0, (self.clock() - received_at).total_seconds())
        metrics.DELIVERIES_BY(channel.name, status).inc()
        metrics.DELIVERY_LATENCY_BY(channel.name).observe(latency)
        return Attempt(status, attempts, None, latency * 1000, provider_id)
