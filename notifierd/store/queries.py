"""Named SQL queries, read once from the ``queries/*.sql`` files (``-- name: x`` headers)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse_named(text: str) -> dict[str, str]:
    """Split a .sql file into its named queries."""
    parts = _NAME.split(text)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


@lru_cache(maxsize=1)
def queries() -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted((_HERE / "queries").glob("*.sql")):
        for name, sql in parse_named(path.read_text()).items():
            if name in out:
                raise RuntimeError(f"query {name!r} is defined twice ({path.name})")
            out[name] = sql
    return out


def q(name: str) -> str:
    """The SQL of query ``name``."""
    return queries()[name]


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every ``migrations/NNNN_name.sql``, in order."""
    out = []
    for path in sorted((_HERE / "migrations").glob("*.sql")):
        number, _, name = path.stem.partition("_")
        out.append((int(number), name, path.read_text()))
    return out
