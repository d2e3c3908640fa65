"""A leased pool connection against the real Postgres: kept, shared fairly, replaced when lost."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from notifierd.store.db import is_transient
from notifierd.store.lease import Lease

PID = "SELECT pg_backend_pid() AS pid"


async def test_calls_are_made_on_one_kept_connection_and_the_pool_still_serves(
    pg_url: str,
) -> None:
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=2)
    lease = Lease(pool)
    try:
        pids = {(await lease.fetch(PID))[0]["pid"] for _ in range(5)}
        assert len(pids) == 1
        assert await asyncio.wait_for(pool.fetchval("SELECT 1"), 5) == 1
        await lease.execute("SELECT $1::int", 7)
        assert {(await lease.fetch(PID))[0]["pid"]} == pids
    finally:
        await lease.close()
        await asyncio.wait_for(pool.close(), 5)  # the kept connection went back


async def test_a_call_made_while_another_runs_does_not_wait_for_it(pg_url: str) -> None:
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=3)
    lease = Lease(pool)
    try:
        started = time.monotonic()
        slow, quick = await asyncio.gather(
            lease.fetch("SELECT pg_backend_pid() AS pid, pg_sleep(0.5)"), lease.fetch(PID)
        )
        assert slow[0]["pid"] != quick[0]["pid"]
        assert time.monotonic() - started < 0.9
    finally:
        await lease.close()
        await pool.close()


async def test_a_connection_postgres_ended_is_replaced(pg_url: str) -> None:
    """As a Postgres restart ends every connection: the next call, or the one after it when the
    loss was not noticed in time, runs on a new one."""
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=2)
    lease = Lease(pool)
    admin = await asyncpg.connect(pg_url)
    try:
        [row] = await lease.fetch(PID)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", row["pid"])
        try:
            [again] = await lease.fetch(PID)
        except Exception as exc:  # the loss noticed by the call itself: callers retry these
            assert is_transient(exc), exc
            [again] = await lease.fetch(PID)
        assert again["pid"] != row["pid"]
        [still] = await lease.fetch(PID)
        assert still["pid"] == again["pid"]
    finally:
        await admin.close()
        await lease.close()
        await asyncio.wait_for(pool.close(), 5)


async def test_a_pool_of_one_connection_is_never_kept_from_its_other_users(pg_url: str) -> None:
    pool = await asyncpg.create_pool(pg_url, min_size=1, max_size=1)
    lease = Lease(pool)
    try:
        await lease.fetch(PID)
        assert await asyncio.wait_for(pool.fetchval("SELECT 1"), 5) == 1
    finally:
        await lease.close()
        await pool.close()
