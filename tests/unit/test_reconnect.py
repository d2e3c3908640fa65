"""The one reconnect helper: back off while the server is away, never retry a bug."""

from __future__ import annotations

import logging
import re

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from notifierd.reconnect import Backoff, Outage, backoff_delay, until_done
from notifierd.redisio.connect import redis_transient


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def no_sleep(slept: list[float], clock: FakeTime | None = None) -> Backoff:
    clock = clock or FakeTime()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    return Backoff(initial=0.5, max_delay=1.5, sleep=sleep, jitter=lambda: 1.0, clock=clock)


async def test_backs_off_until_the_server_answers(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0
    slept: list[float] = []

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise RedisConnectionError("Connection refused")
        return "ok"

    with caplog.at_level(logging.INFO, logger="notifierd.reconnect"):
        result = await until_done(
            flaky, what="fetching requests", retry_if=redis_transient, backoff=no_sleep(slept)
        )
    assert result == "ok"
    assert slept == [0.5, 1.0, 1.5]  # doubling, capped
    # One WARNING for the stretch, saying when it is tried again; one INFO when it works.
    [failure] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert failure.getMessage() == (
        "fetching requests failed (attempt 1), again in 0.5s: ConnectionError: Connection refused"
    )
    [recovered] = [r for r in caplog.records if r.levelno == logging.INFO]
    assert recovered.getMessage() == "fetching requests succeeded after 3 failed attempt(s)"


async def test_a_long_outage_warns_again_each_minute_and_logs_every_try_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0
    slept: list[float] = []

    async def down_for_200_tries() -> None:
        nonlocal calls
        calls += 1
        if calls <= 200:
            raise RedisConnectionError("Connection refused")

    with caplog.at_level(logging.DEBUG, logger="notifierd.reconnect"):
        await until_done(
            down_for_200_tries,
            what="acknowledging 3 request(s) in Redis",
            retry_if=redis_transient,
            backoff=no_sleep(slept),
            event="redis_unavailable",
        )
    assert sum(slept) == pytest.approx(0.5 + 1.0 + 198 * 1.5)  # 298.5 s of backing off
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # The first failure, then once per 60 s of backing off (0.5 + 1.0 + 1.5 s each after).
    assert warnings == [
        "acknowledging 3 request(s) in Redis failed (attempt 1), again in 0.5s: "
        "ConnectionError: Connection refused",
        *(
            f"acknowledging 3 request(s) in Redis still failing after {n} attempts over "
            f"{s:.0f}s, again in 1.5s: ConnectionError: Connection refused"
            for n, s in ((42, 60), (82, 120), (122, 180), (162, 240))
        ),
    ]
    assert all(r.event == "redis_unavailable" for r in caplog.records if r.levelno >= 30)
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 200 - len(warnings)  # every try is still there, at DEBUG


async def test_a_minute_is_the_clock_s_tries_that_take_long_to_fail_included(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeTime()
    calls = 0

    async def times_out_after_10s() -> None:  # a connect timeout, say: each try takes 10 s
        nonlocal calls
        calls += 1
        if calls <= 20:
            clock.now += 10
            raise RedisConnectionError("Timeout connecting to server")

    with caplog.at_level(logging.WARNING, logger="notifierd.reconnect"):
        await until_done(
            times_out_after_10s,
            what="taking requests from Redis",
            retry_if=redis_transient,
            backoff=no_sleep([], clock),
        )
    # The first try fails at 10 s, the next ones 10 s of trying and 0.5, 1.0, then 1.5 s of
    # backing off later (20.5, 31.5, 43, 54.5, 66, 77.5 s, ...): a WARNING at the first failure,
    # then at the first failure 60 s or more after the last WARNING.
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings[0].startswith("taking requests from Redis failed (attempt 1), again in 0.5s")
    reminders = [re.search(r"after (\d+) attempts over (\d+)s", w) for w in warnings[1:]]
    assert [(int(m[1]), int(m[2])) for m in reminders if m] == [(7, 68), (13, 136), (19, 206)]


async def test_gives_up_after_max_attempts() -> None:
    async def down() -> None:
        raise RedisConnectionError("Connection refused")

    with pytest.raises(RedisConnectionError):
        await until_done(
            down, what="acking", retry_if=redis_transient, max_attempts=3, backoff=no_sleep([])
        )


async def test_does_not_retry_a_bug() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("not a connection problem")

    with pytest.raises(KeyError):
        await until_done(broken, what="acking", retry_if=redis_transient, backoff=no_sleep([]))
    assert calls == 1


def test_backoff_delay_has_jitter_within_half_to_full() -> None:
    assert backoff_delay(3, initial=1, jitter=lambda: 0.0) == 2.0
    assert backoff_delay(3, initial=1, jitter=lambda: 1.0) == 4.0
    assert backoff_delay(100, initial=1, max_delay=30, jitter=lambda: 1.0) == 30.0


def test_an_outage_is_one_warning_line_then_one_info_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.outage")
    outage = Outage(logger, lambda exc: isinstance(exc, ConnectionError))
    with caplog.at_level(logging.DEBUG, logger="test.outage"):
        for _ in range(3):
            outage.failed("polling", "the next poll in 1s", ConnectionError("refused\nby peer"))
        outage.succeeded("polling")
        outage.succeeded("polling")  # no outage to end: nothing to say
    lines = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records]
    assert lines == [
        (
            logging.WARNING,
            "polling failed: ConnectionError: refused by peer; the next poll in 1s",
            None,
        ),
        (
            logging.DEBUG,
            "polling failed: ConnectionError: refused by peer; the next poll in 1s",
            None,
        ),
        (
            logging.DEBUG,
            "polling failed: ConnectionError: refused by peer; the next poll in 1s",
            None,
        ),
        (logging.INFO, "polling works again", None),
    ]


def test_a_bug_is_an_error_with_its_traceback_every_time(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage(logging.getLogger("test.outage"), lambda exc: False)
    with caplog.at_level(logging.DEBUG, logger="test.outage"):
        for _ in range(2):
            outage.failed("polling", "the next poll in 1s", KeyError("x"))
    assert [(r.levelno, r.exc_info is not None) for r in caplog.records] == [
        (logging.ERROR, True)
    ] * 2
