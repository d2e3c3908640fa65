"""Connecting to Redis: a one-line error when it is down, backoff while it comes back."""

from __future__ import annotations

import socket

import pytest

from notifierd.errors import ServiceUnavailable
from notifierd.redisio.connect import connect_redis
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


async def test_a_malformed_url_says_so() -> None:
    with pytest.raises(ServiceUnavailable, match="invalid Redis URL localhost:6379"):
        await connect_redis("localhost:6379")
