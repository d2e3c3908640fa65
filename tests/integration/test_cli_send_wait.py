"""``send --wait``: nothing is pushed when the outcome cannot be waited for, and once a request
is pushed its id is printed whatever happens next, so a retry never sends it twice."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner, Result

from notifierd.cli.main import _register, cli
from tests.integration.pg_fixtures import create_database, drop_database
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
def queue(redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch) -> str:
    """A queue no daemon reads: what `send` pushes stays there to be counted."""
    name = f"{redis_prefix.prefix}:requests"
    monkeypatch.setenv("REDIS_URL", redis_prefix.url)
    monkeypatch.setenv("NOTIFIERD_QUEUE", name)
    return name


async def invoke(*args: str) -> Result:
    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def queued_ids(redis_prefix: RedisPrefix, queue: str) -> list[str]:
    return [json.loads(raw)["id"] for raw in await redis_prefix.redis.lrange(queue, 0, -1)]


@pytest.mark.parametrize(
    ("postgres_url", "exit_code", "says"),
    [
        ("postgresql://postgres:hunter2@127.0.0.1:1/none", 1, "cannot reach PostgreSQL"),
        ("postgres://x:y@h:notaport/db", 2, "POSTGRES_URL 'postgres://x:***@h:notaport/db'"),
        ("postgresql://x:y@127.0.0.1:1/db?sslmode=bogus", 2, "invalid PostgreSQL URL"),
    ],
)
async def test_wait_without_postgres_pushes_nothing(
    redis_prefix: RedisPrefix,
    queue: str,
    monkeypatch: pytest.MonkeyPatch,
    postgres_url: str,
    exit_code: int,
    says: str,
) -> None:
    monkeypatch.setenv("POSTGRES_URL", postgres_url)
    result = await invoke("send", "--title", "DB down", "--wait", "5")
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and says in line
    assert "hunter2" not in line and "y@" not in line
    if "cannot reach" in says or "invalid" in says:
        assert "nothing was sent" in line
    assert await queued_ids(redis_prefix, queue) == []


async def test_waiting_that_fails_after_the_push_still_names_the_request(
    redis_prefix: RedisPrefix, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, url = await create_database()
    monkeypatch.setenv("POSTGRES_URL", url)
    try:
        sending = asyncio.create_task(
            invoke("send", "--title", "DB down", "--wait", "30", "--format", "json")
        )
        # Postgres goes away once the request is on the queue, while `send` waits.
        while not await queued_ids(redis_prefix, queue):
            assert not sending.done(), sending.result().output
            await asyncio.sleep(0.05)
    finally:
        await drop_database(name)
    result = await asyncio.wait_for(sending, 20)
    [rid] = await queued_ids(redis_prefix, queue)
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout.splitlines()[0]) == {"id": rid, "queue": queue, "status": None}
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: the request WAS queued with id {rid}")
    assert line.endswith(f"check it with `notifierd status {rid}`")


async def test_the_id_comes_first_even_when_nothing_answers_in_time(
    redis_prefix: RedisPrefix, queue: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_URL", pg_url)
    result = await invoke("send", "--title", "DB down", "--wait", "0.5")
    [rid] = await queued_ids(redis_prefix, queue)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == rid
    assert f"notifierd status {rid}" in result.stderr
