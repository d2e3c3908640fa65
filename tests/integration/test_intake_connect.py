"""Connecting to Redis: a one-line error when it is down, backoff while it comes back."""

from __future__ import annotations

import logging
import socket

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from notifierd.errors import ServiceUnavailable
from notifierd.intake.connect import backoff_delay, connect_redis, with_retry
from tests.integration.redis_fixtures import REDIS_URL


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connect_returns_a_client_that_answers() -> None:
    redis = await connect_redis(REDIS_URL)
    try:
        assert await redis.ping()
    finally:
        await redis.aclose()


async def test_an_unreachable_redis_is_one_clear_line_without_the_password() -> None:
    url = f"redis://:s3cret@127.0.0.1:{unused_port()}/0"
    with pytest.raises(ServiceUnavailable) as caught:
        await connect_redis(url, connect_timeout=1)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cret" not in message
    assert message.startswith("cannot reach Redis at redis://:***@127.0.0.1:")
    assert "redis-server --daemonize yes" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_with_retry_backs_off_until_redis_answers(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0
    slept: list[float] = []

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise RedisConnectionError("Connection refused")
        return "ok"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with caplog.at_level(logging.WARNING, logger="notifierd.intake.connect"):
        result = await with_retry(
            flaky, what="fetching requests", sleep=sleep, jitter=lambda: 1.0, max_delay=1.5
        )
    assert result == "ok"
    assert slept == [0.5, 1.0, 1.5]  # doubling, capped
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failures) == 3
    assert "fetching requests" in failures[0].getMessage()


async def test_with_retry_gives_up_after_max_attempts() -> None:
    async def down() -> None:
        raise RedisConnectionError("Connection refused")

    async def sleep(seconds: float) -> None:
        pass

    with pytest.raises(RedisConnectionError):
        await with_retry(down, what="acking", max_attempts=3, sleep=sleep)


async def test_with_retry_does_not_retry_a_bug() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("not a connection problem")

    with pytest.raises(KeyError):
        await with_retry(broken, what="acking")
    assert calls == 1


def test_backoff_delay_has_jitter_within_half_to_full() -> None:
    assert backoff_delay(3, initial=1, jitter=lambda: 0.0) == 2.0
    assert backoff_delay(3, initial=1, jitter=lambda: 1.0) == 4.0
    assert backoff_delay(100, initial=1, max_delay=30, jitter=lambda: 1.0) == 30.0


async def test_a_malformed_url_says_so() -> None:
    with pytest.raises(ServiceUnavailable, match="invalid Redis URL localhost:6379"):
        await connect_redis("localhost:6379")
