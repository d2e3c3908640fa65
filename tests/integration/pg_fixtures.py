"""A fresh Postgres database per test (created from the server's `postgres` db, dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

ADMIN_URL = os.environ.get(
    "NOTIFIERD_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _url_for(db: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{db}"


async def create_database() -> tuple[str, str]:
    name = f"notifierd_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, _url_for(name)


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """The URL of an empty database that exists for this test only."""
    name, url = await create_database()
    try:
        yield url
    finally:
        await drop_database(name)
