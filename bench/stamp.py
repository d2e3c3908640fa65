"""Benchmark: what a request pushed without an id costs in Redis to keep the id it was given.

The intake writes the generated id into the consumer's held copy (``Consumer.stamp``: one Lua
call per batch, LPOS + LSET per request) before anything is sent. This times that call for a
batch of BATCH such requests, the newest taken, while HELD requests are held (a worker's
in-flight bound plus a batch), against the machine's Redis; requests with an id never pay it.
Usage: python bench/stamp.py [--rounds 50] [--batch 100] [--held 356]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
import uuid

from redis.asyncio import Redis

from notifierd.intake.consumer import Consumer
from notifierd.intake.parse import with_id
from notifierd.redisio.keys import Keys


async def run(
    url: str, rounds: int, batch: int, held: int, prefix: str = "bench:stamp"
) -> list[float]:
    """Seconds per stamp call, one per round, on keys under ``prefix`` (removed after)."""
    redis = Redis.from_url(url)
    keys = Keys(f"{prefix}:{uuid.uuid4().hex[:8]}")
    consumer = Consumer(redis, keys, "bench")
    await consumer.start()
    seconds = []
    try:
        for n in range(rounds):
            raws = [
                json.dumps({"title": f"disk full {n}-{i}", "message": "sda1 at 97%"}).encode()
                for i in range(held)
            ]
            await redis.lpush(keys.queue, *raws)
            taken = await consumer.fetch(held, timeout=0.1)
            newest = taken[-batch:]
            pairs = [(raw, with_id(raw, str(uuid.uuid4())) or raw) for raw in newest]
            started = time.perf_counter()
            replaced = await consumer.stamp(pairs)
            seconds.append(time.perf_counter() - started)
            assert all(replaced), "a held request was not found"
            await consumer.ack([stamped for _, stamped in pairs] + taken[:-batch])
    finally:
        await consumer.stop()
        async for key in redis.scan_iter(f"{keys.prefix}:*"):
            await redis.delete(key)
        await redis.aclose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--held", type=int, default=356)
    args = parser.parse_args()
    seconds = asyncio.run(run(args.redis, args.rounds, args.batch, args.held))
    median = statistics.median(seconds)
    print(
        f"{platform.machine()}, Python {platform.python_version()}: stamping {args.batch} "
        f"requests among {args.held} held, {args.rounds} rounds: median {median * 1e3:.2f} ms "
        f"({median / args.batch * 1e6:.1f} µs per request), max {max(seconds) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
