"""Integration fixtures: a fresh Postgres database per test (real server, never mocked)."""

from tests.integration.pg_fixtures import pg_url

__all__ = ["pg_url"]
