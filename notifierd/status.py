"""The statuses of deliveries, alerts and escalation steps: one enum per family.

SQL spells the same words (the tables store text); where a query needs a set of them, such as
the final delivery statuses, Python passes it, so the set is defined here only.
"""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # rendered, about to be sent
    SENDING = "sending"  # a retry claimed by a replica (its lease says until when)
    RETRYING = "retrying"  # failed for now; due again at next_attempt_at
    DELIVERED = "delivered"
    DRY_RUN = "dry_run"  # would have been delivered (the daemon runs with --dry-run)
    DEAD = "dead"  # failed for good: in the dead-letter queue
    SUPPRESSED = "suppressed"  # held back by a suppression window
    DEDUPLICATED = "deduplicated"  # held back: its dedup key was sent within the window
    # Held by a rate limit with overflow: digest longer than its digest_after: waits in
    # Postgres to go out in the next digest of its channel and recipient (pipeline/digest.py).
    HELD = "held"
    DIGESTED = "digested"  # sent as a line of a digest message; digested_into names it


# Never sent again, and never overwritten by a replay: record_outcomes takes this set.
FINAL_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DRY_RUN,
        DeliveryStatus.DEAD,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.DEDUPLICATED,
        DeliveryStatus.DIGESTED,
    }
)

# A delivery written straight to one of these has nothing left to happen to it: it gets no
# history event, its row is its history (record_outcomes, Store.request_status).
COMPLETE_AT_FIRST_WRITE = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.DRY_RUN})


class AlertStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class StepStatus(StrEnum):
    """An escalation step's status in ``escalation_steps``."""

    PENDING = "pending"  # waits for its due time
    FIRING = "firing"  # claimed by a replica (its lease says until when)
    FIRED = "fired"
    CANCELLED = "cancelled"  # its alert was acknowledged or resolved first
    SKIPPED = "skipped"  # beyond the misfire grace, or its level is gone from the policy


class DeadLetterKind(StrEnum):
    """What a dead-letter queue entry holds (``notifierd dlq list``)."""

    DELIVERY = "delivery"  # a delivery that failed for good
    REQUEST = "request"  # a request whose processing failed


class HeartbeatState(StrEnum):
    """A heartbeat's state in ``heartbeats`` (``notifierd heartbeats``)."""

    OK = "ok"  # beaten within its interval and grace (or not yet due since the config named it)
    LATE = "late"  # past interval + grace: its alert was opened, the next beat resolves it


class ReloadOutcome(StrEnum):
    """What a reload came to."""

    ACTIVATED = "activated"  # a new config is active
    UNCHANGED = "unchanged"  # the files on disk are the active config
    REFUSED = "refused"  # invalid: the active config stays
    FAILED = "failed"  # a bug: the active config stays
