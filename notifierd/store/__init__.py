"""Postgres: asyncpg pool, numbered migrations and named queries kept in .sql files."""
