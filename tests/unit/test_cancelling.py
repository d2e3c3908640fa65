"""Cancelling a task that went on after its first cancellation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from notifierd.cancelling import cancel_and_wait


async def test_a_task_that_swallowed_a_cancellation_is_cancelled_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As a loop around a redis-py command does when the cancellation lands as the command
    completes (Python 3.11's asyncio.wait_for returns the reply then)."""
    swallowed: list[int] = []

    async def heartbeat() -> None:
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(1)

    task = asyncio.create_task(heartbeat(), name="heartbeat:test")
    await asyncio.sleep(0.02)
    with caplog.at_level(logging.WARNING, logger="notifierd.cancelling"):
        await asyncio.wait_for(cancel_and_wait([task], every=0.05), 5)
    assert task.cancelled() and swallowed == [1]
    assert "went on after being cancelled (heartbeat:test)" in caplog.text


async def test_tasks_that_end_when_cancelled_are_cancelled_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = [asyncio.create_task(asyncio.sleep(10)) for _ in range(3)]
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    with caplog.at_level(logging.WARNING, logger="notifierd.cancelling"):
        await cancel_and_wait([*tasks, done])
    assert all(t.cancelled() for t in tasks) and not done.cancelled()
    assert caplog.text == ""
