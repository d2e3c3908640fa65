"""bench/stamp.py, tiny: it stamps every request it holds and leaves no key behind."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.integration.redis_fixtures import RedisPrefix

BENCH = Path(__file__).resolve().parents[2] / "bench" / "stamp.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stamp_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_stamp_benchmark_times_each_round_and_cleans_up(
    redis_prefix: RedisPrefix,
) -> None:
    prefix = f"{redis_prefix.prefix}:bench"
    seconds = await bench().run(redis_prefix.url, rounds=3, batch=10, held=30, prefix=prefix)
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    assert not [key async for key in redis_prefix.redis.scan_iter(f"{prefix}:*")]
