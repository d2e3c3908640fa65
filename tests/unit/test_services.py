"""Which of a daemon's workers waits on the queue in Redis and which pause between takes."""

from __future__ import annotations

from notifierd.options import WorkerSlot
from notifierd.services import SIBLING_IDLE_POLL, idle_poll


def test_only_the_first_worker_waits_in_redis() -> None:
    assert idle_poll(None) is None  # no supervisor: the only worker
    assert idle_poll(WorkerSlot(0, "owner")) is None
    assert idle_poll(WorkerSlot(1, "owner")) == SIBLING_IDLE_POLL
    assert idle_poll(WorkerSlot(7, "owner")) == SIBLING_IDLE_POLL
    assert 0 < SIBLING_IDLE_POLL <= 0.05  # a burst is joined within it
