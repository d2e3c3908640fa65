"""Rate limit status on a real Redis: what is used and when it frees, without taking any quota."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from notifierd.cli.main import _register, cli
from notifierd.config.model import RateLimit
from notifierd.redisio.keys import Keys
from tests.integration.ratelimit_builders import bucket, limiter, sliding
from tests.integration.redis_fixtures import RedisPrefix, redis_prefix
from tests.unit.config_repo import MINIMAL_ROUTES, write_repo

__all__ = ["redis_prefix"]


async def test_sliding_window_reports_used_remaining_and_when_a_slot_frees(
    redis_prefix: RedisPrefix,
) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(5, 2.0)
    for _ in range(3):
        assert await limits.try_acquire(limit) == 0
    [partial] = await limits.status([limit])
    assert (partial.used, partial.remaining, partial.retry_after) == (3, 2, 0)
    assert 1.5 < partial.resets_in <= 2.0  # when the newest of the three leaves the window

    for _ in range(2):
        assert await limits.try_acquire(limit) == 0
    [full] = await limits.status([limit])
    assert (full.key, full.algorithm, full.limit, full.window) == (
        "channel:ops-slack",
        "sliding_window",
        5,
        2.0,
    )
    assert (full.used, full.remaining) == (5, 0)
    assert 1.5 < full.retry_after <= 2.0  # when the oldest leaves
    assert full.retry_after <= full.resets_in <= 2.0


async def test_token_bucket_reports_tokens_and_refill_times(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    limit = bucket(10, 1.0, burst=5)  # one token every 100 ms, 5 at once
    for _ in range(3):
        assert await limits.try_acquire(limit) == 0
    [partial] = await limits.status([limit])
    assert (partial.capacity, partial.used, partial.remaining, partial.retry_after) == (5, 3, 2, 0)
    assert 0.2 < partial.resets_in <= 0.3

    for _ in range(2):
        assert await limits.try_acquire(limit) == 0
    [empty] = await limits.status([limit])
    assert (empty.used, empty.remaining) == (5, 0)
    assert 0 < empty.retry_after <= 0.1
    assert 0.4 < empty.resets_in <= 0.5


async def test_an_unused_limit_reads_full(redis_prefix: RedisPrefix) -> None:
    statuses = await limiter(redis_prefix).status([sliding(5, 60.0), bucket(4, 60.0, burst=2)])
    assert [(s.used, s.remaining, s.retry_after, s.resets_in) for s in statuses] == [
        (0, 5, 0, 0),
        (0, 2, 0, 0),
    ]


@pytest.mark.parametrize("limit", [sliding(4, 60.0), bucket(4, 60.0)], ids=["sliding", "bucket"])
async def test_status_consumes_nothing(redis_prefix: RedisPrefix, limit: RateLimit) -> None:
    limits = limiter(redis_prefix)
    assert await limits.try_acquire(limit) == 0
    for _ in range(10):
        [status] = await limits.status([limit])
        assert status.remaining == 3
    # Exactly the three that status reported are still admitted.
    assert [await limits.try_acquire(limit) for _ in range(5)].count(0) == 3


async def test_status_leaves_expired_entries_for_the_limiter(redis_prefix: RedisPrefix) -> None:
    limits = limiter(redis_prefix)
    limit = sliding(3, 0.1)
    for _ in range(2):
        assert await limits.try_acquire(limit) == 0
    await asyncio.sleep(0.15)
    [status] = await limits.status([limit])
    assert (status.used, status.remaining, status.resets_in) == (0, 3, 0)
    key = Keys(redis_prefix.prefix).ratelimit(limit.key, limit.algorithm)
    assert await redis_prefix.redis.zcard(key) == 2  # read, not cleaned up


ROUTES_WITH_LIMITS = (
    MINIMAL_ROUTES
    + """\
rate_limits:
  - {channel: ops-slack, limit: 5, window: 1m, algorithm: sliding_window}
  - {type: email, limit: 100, window: 1m, algorithm: token_bucket, burst: 20}
"""
)


async def invoke(*args: str) -> Result:
    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_cli_prints_a_table_and_json(
    tmp_path: Path, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_repo(tmp_path / "config", {"routes.yaml": ROUTES_WITH_LIMITS})
    monkeypatch.setenv("REDIS_URL", redis_prefix.url)
    limits = limiter(redis_prefix)
    for _ in range(2):
        assert await limits.try_acquire(sliding(5, 60.0)) == 0
    common = ["ratelimit", "status", "--config", str(config), "--key-prefix", redis_prefix.prefix]

    table = await invoke(*common)
    assert table.exit_code == 0, table.output
    # CliRunner is not a terminal: a header row, then tab-separated rows.
    header, *lines = table.output.splitlines()
    assert header.split("\t")[:3] == ["limit", "algorithm", "limit per window"]
    ops_row = next(line for line in lines if line.startswith("channel:ops-slack\t"))
    cells = ops_row.split("\t")
    assert cells[:6] == ["channel:ops-slack", "sliding_window", "5 / 1m", "2", "3", "now"]
    assert cells[6].endswith("s")  # full reset: the newest entry leaves in just under a minute
    assert "100 / 1m, burst 20" in table.output

    as_json = await invoke(*common, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.output)
    assert [(r["key"], r["used"], r["remaining"]) for r in rows] == [
        ("channel:ops-slack", 2, 3),
        ("type:email", 0, 20),
    ]
    assert 55 < rows[0]["resets_in"] <= 60


async def test_cli_without_rate_limits_says_so(tmp_path: Path) -> None:
    config = write_repo(tmp_path / "config", {"routes.yaml": MINIMAL_ROUTES})
    result = await invoke("ratelimit", "status", "--config", str(config))
    assert result.exit_code == 0
    assert result.output.strip() == f"no rate limits are configured in {config}"
    as_json = await invoke("ratelimit", "status", "--config", str(config), "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.output) == []


async def test_cli_with_redis_down_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_repo(tmp_path / "config", {"routes.yaml": ROUTES_WITH_LIMITS})
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    result = await invoke("ratelimit", "status", "--config", str(config))
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert result.output.count("\n") == 1
