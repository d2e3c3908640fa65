"""A producer's Redis ACL user, made with the line SECURITY.md documents, may push onto its own
queue and do nothing else; the daemon, under its own documented ACL user, consumes what it pushed
and knows whose it is."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.exceptions
from redis.asyncio import Redis

from notifierd.client import Client
from notifierd.redisio.keys import Keys
from tests.integration.daemon_harness import ROUTES, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


# The lines of SECURITY.md ("Producers on the queue"), with the names a test owns.
def producer_acl(user: str, password: str, queue: str) -> list[str]:
    """``ACL SETUSER ci on >SECRET resetkeys ~notifierd:requests:ci resetchannels -@all
    +lpush +rpush +ping``"""
    return f"ACL SETUSER {user} on >{password} resetkeys ~{queue} resetchannels -@all +lpush +rpush +ping".split()


def daemon_acl(user: str, password: str, prefix: str) -> list[str]:
    """``ACL SETUSER notifierd on >SECRET resetkeys ~notifierd:* resetchannels -@all +@list
    +@string +@set +@hash +@sortedset +@scripting +@connection +@transaction +@keyspace -@dangerous``"""
    return (
        f"ACL SETUSER {user} on >{password} resetkeys ~{prefix}:* resetchannels -@all +@list "
        "+@string +@set +@hash +@sortedset +@scripting +@connection +@transaction +@keyspace -@dangerous"
    ).split()


@pytest.fixture
async def acl_users(redis_prefix: RedisPrefix) -> AsyncIterator[Callable[[list[str]], str]]:
    """Create ACL users (unique names); each is deleted after the test. Returns its URL."""
    created: list[str] = []
    redis = redis_prefix.redis

    async def create(line: list[str]) -> str:
        await redis.execute_command(*line)
        created.append(line[2])
        user, password = line[2], line[4].removeprefix(">")
        return f"redis://{user}:{password}@127.0.0.1:6379/0"

    yield create  # type: ignore[misc]
    for user in created:
        await redis.execute_command("ACL", "DELUSER", user)


def unique(name: str) -> str:
    return f"notifierd-test-{name}-{uuid.uuid4().hex[:12]}"


async def test_a_producer_may_push_onto_its_own_queue_and_do_nothing_else(
    redis_prefix: RedisPrefix, acl_users: Callable[[list[str]], object]
) -> None:
    keys = Keys(redis_prefix.prefix, f"{redis_prefix.prefix}:requests")
    own, other = keys.producer_queue("ci"), keys.producer_queue("nightly")
    user = unique("ci")
    url = await acl_users(producer_acl(user, secrets.token_hex(16), own))  # type: ignore[misc]
    producer = Redis.from_url(url)
    try:
        assert await producer.lpush(own, b"{}") == 1  # type: ignore[misc]
        assert await producer.rpush(own, b"{}") == 2  # type: ignore[misc]
        assert await producer.ping()
        refused = [
            ("LPUSH", keys.queue, "{}"),  # the default queue: the anonymous producer's
            ("LPUSH", other, "{}"),  # another producer's queue
            ("GET", own),
            ("DEL", own),
            ("LRANGE", own, "0", "-1"),
            ("RPOP", own),  # it cannot take back, or read, what it pushed
            ("KEYS", "*"),
            ("SET", f"{redis_prefix.prefix}:x", "1"),
        ]
        for command in refused:
            with pytest.raises(redis.exceptions.NoPermissionError):
                await producer.execute_command(*command)
        # FLUSHALL is asked with ACL DRYRUN: on a shared server, a wrong ACL must not flush it.
        verdict = await redis_prefix.redis.execute_command("ACL", "DRYRUN", user, "FLUSHALL")
        assert b"no permissions to run the 'flushall' command" in verdict
        assert await redis_prefix.redis.llen(own) == 2
        assert await redis_prefix.redis.llen(keys.queue) == 0
        assert await redis_prefix.redis.llen(other) == 0
    finally:
        await producer.aclose()


async def test_the_daemon_consumes_what_a_producer_user_pushed_and_knows_its_producer(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    acl_users: Callable[[list[str]], object],
) -> None:
    queue = f"{redis_prefix.prefix}:requests"
    producer_url = await acl_users(  # type: ignore[misc]
        producer_acl(unique("ci"), secrets.token_hex(16), Keys(queue=queue).producer_queue("ci"))
    )
    daemon_url = await acl_users(  # type: ignore[misc]
        daemon_acl(unique("daemon"), secrets.token_hex(16), redis_prefix.prefix)
    )
    as_daemon = dataclasses.replace(redis_prefix, url=daemon_url)
    routes = ROUTES + "producers:\n  ci: {queue: true}\n"
    async for running in start_daemon(tmp_path, pg_url, as_daemon, monkeypatch, routes=routes):
        async with Client(redis_url=producer_url, queue=queue, producer="ci") as client:
            request_id = await client.send(title="deployed", message="v2 is live")
        found = await running.status(request_id)
        assert (found["status"], found["producer"]) == ("delivered", "ci")
        async with Client(redis_url=producer_url, queue=queue) as anonymous:
            with pytest.raises(redis.exceptions.NoPermissionError):
                await anonymous.send(title="pretending", message="to be anyone")
