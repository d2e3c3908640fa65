"""Immutable values made for every request: frozen for the type checker, plain at run time.

A frozen dataclass sets each field through ``object.__setattr__``: ~0.3 µs a field on the
benchmark machine against ~0.06 for a plain one, and a request makes a dozen such values on its
way to a receiver (the request, its routing, rendering, outbound message, answer and attempt).
Their ``__init__`` was ~5 % of a worker's samples in a burst's profile; building a request
went 11.8 → 6.8 µs (bench/README.md). Classes decorated here are dataclasses with slots whose
fields mypy treats as read-only (``frozen_default``), so code that assigns one fails the type
check; equality and hashing are a frozen dataclass's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True)
def value_class(cls: type[T]) -> type[T]:
    return dataclass(slots=True, unsafe_hash=True)(cls)
