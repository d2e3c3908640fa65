"""Scalar value syntaxes shared by the schemas and the loader: durations, env references."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+$"
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)")
_DURATION_WHOLE = re.compile(DURATION_PATTERN)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# A secret must be exactly one reference; other settings may embed references in text.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ENV_REF_ONLY = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus-style duration such as ``90s``, ``15m`` or ``1h30m``."""
    if not _DURATION_WHOLE.match(text):
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit, e.g. 30s, 15m, 1h30m"
        )
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def format_duration(seconds: float) -> str:
    """The shortest duration text for ``seconds`` (inverse of :func:`parse_duration`)."""
    if seconds == 0:
        return "0s"
    parts = []
    rest = seconds
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if rest >= size:
            count = int(rest // size)
            parts.append(f"{count}{unit}")
            rest -= count * size
    if rest > 1e-9:
        parts.append(f"{round(rest * 1000)}ms")
    return "".join(parts)


def env_names(text: str) -> list[str]:
    """The environment variable names referenced in ``text``."""
    return ENV_REF.findall(text)


def expand_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace every ``${NAME}`` with its value; a missing variable raises KeyError naming it."""
    env = os.environ if environ is None else environ

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise KeyError(name)
        return env[name]

    return ENV_REF.sub(substitute, text)


def missing_env(settings: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """The environment variables ``settings`` (a channel's, nested values too) reference and
    ``environ`` lacks, each once, in the order they appear: why a channel cannot deliver."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(n for n in env_names(value) if n not in environ and n not in found)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(settings)
    return found
