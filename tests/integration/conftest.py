"""Integration fixtures: a fresh Postgres database and a fresh Redis key prefix per test."""

from tests.integration.pg_fixtures import pg_url
from tests.integration.redis_fixtures import redis_prefix

__all__ = ["pg_url", "redis_prefix"]
