"""Benchmark: what migration 0018's search indexes cost the daemon's writes.

Two databases of its own, both migrated, one then without 0018's indexes (the trigram index on
requests' titles, deliveries' channel type and non-delivered status, alerts' dedup key and open
alerts); writes the same batches into each in turn with Store.write_batch, as the recorder does
(100 requests of 2 or 3 deliveries a batch: 88 % delivered at once, the rest dead, retrying or
suppressed), and prints the seconds each spent, round by round, alternating which goes first,
so the machine's load falls on both alike.
Usage: python bench/console_writes.py [--requests 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from notifierd.status import DeliveryStatus
from notifierd.store.db import Store
from notifierd.store.records import DeliveryRecord, RequestRecord

sys.path.insert(0, str(Path(__file__).resolve().parent))
from console import ADMIN, SERVICES, SYMPTOMS, url_of

WITHOUT_0018 = """
DROP INDEX requests_title_trgm;
DROP INDEX deliveries_channel_type;
DROP INDEX deliveries_status_newest;
DROP INDEX alerts_dedup_key;
DROP INDEX alerts_open_newest;
"""
CHANNELS = [("ops-slack", "slack", "#ops"), ("audit", "webhook", ""), ("ops-email", "email", "")]
BATCH = 100


def batches(tag: str, requests: int) -> list[tuple[list[RequestRecord], list[DeliveryRecord]]]:
    """The same requests for both databases (ids made unique per round by ``tag``)."""
    out = []
    now = datetime.now(UTC)
    for start in range(0, requests, BATCH):
        reqs, deliveries = [], []
        for n in range(start, min(requests, start + BATCH)):
            rid = f"{tag}-{n}"
            title = f"{SYMPTOMS[n % len(SYMPTOMS)]} on {SERVICES[n % len(SERVICES)]}-{n % 40}"
            payload = {"id": rid, "title": title, "message": "m " * 40}
            reqs.append(RequestRecord(rid, "notification", "routed", json.dumps(payload), now))
            for j in range(2 + n % 2):
                name, kind, recipient = CHANNELS[j]
                roll = (n * 7 + j) % 100
                status = (
                    DeliveryStatus.DELIVERED
                    if roll < 88
                    else DeliveryStatus.DEAD
                    if roll < 92
                    else DeliveryStatus.RETRYING
                    if roll < 96
                    else DeliveryStatus.SUPPRESSED
                )
                deliveries.append(DeliveryRecord(rid, name, kind, recipient or f"p{n}", status, 1))
        out.append((reqs, deliveries))
    return out


async def write(
    store: Store, work: list[tuple[list[RequestRecord], list[DeliveryRecord]]]
) -> float:
    started = time.perf_counter()
    for reqs, deliveries in work:
        await store.write_batch(reqs, deliveries)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    admin = await asyncpg.connect(ADMIN)
    names = {k: f"notifierd_bench_writes_{k}_{uuid.uuid4().hex[:6]}" for k in ("with", "without")}
    stores: dict[str, Store] = {}
    try:
        for kind, name in names.items():
            await admin.execute(f'CREATE DATABASE "{name}"')
            stores[kind] = await Store.connect(url_of(name))
        await stores["without"].pool.execute(WITHOUT_0018)
        spent: dict[str, list[float]] = {"without": [], "with": []}
        for round_ in range(args.rounds):
            work = batches(f"r{round_}", args.requests)
            order = ["without", "with"] if round_ % 2 == 0 else ["with", "without"]
            for kind in order:
                spent[kind].append(await write(stores[kind], work))
            print(
                f"round {round_ + 1}: without 0018 {spent['without'][-1]:.2f} s, "
                f"with {spent['with'][-1]:.2f} s ({args.requests:,} requests)"
            )
        best = {k: min(v) for k, v in spent.items()}
        middle = {k: statistics.median(v) for k, v in spent.items()}
        print(
            f"best round: without {best['without']:.2f} s, with {best['with']:.2f} s "
            f"({best['with'] / best['without'] - 1:+.1%}); median: without "
            f"{middle['without']:.2f} s, with {middle['with']:.2f} s "
            f"({middle['with'] / middle['without'] - 1:+.1%})"
        )
    finally:
        for store in stores.values():
            await store.close()
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
