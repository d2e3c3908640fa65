"""Sample requests given to ``diff --requests``: read, checked, and named as their authors do."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from notifierd.intake.parse import request_problems

LABEL_WIDTH = 60  # a title is a label here, not the whole title


def read_samples(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """A JSON list of requests, one request, or one request per line; and every problem with
    them, each naming the request (``request 2: unknown key 'titl' ...``) or the line."""
    try:
        decoded = json.loads(text)
        items = decoded if isinstance(decoded, list) else [decoded]
    except RecursionError:
        return [], ["the JSON is nested too deeply"]
    except ValueError:
        items, problems = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                problems.append(f"line {number} is not JSON: {exc.msg} (column {exc.colno})")
            except RecursionError:
                problems.append(f"line {number} is JSON nested too deeply")
        if problems:
            return [], problems
    problems = [
        f"request {position}: {problem}"
        for position, item in enumerate(items, start=1)
        for problem in request_problems(item)
    ]
    return ([], problems) if problems else (items, [])


def sample_labels(samples: list[dict[str, Any]], taken: frozenset[str] = frozenset()) -> list[str]:
    """Name sample requests as their authors do: the ``id``, else the title, else the position.

    A label that would read like another one (``taken``, e.g. case names, or an earlier sample
    with the same title) gets its position too: ``"Deployed" (request 3)``.
    """
    labels = []
    for position, sample in enumerate(samples, start=1):
        ident, title = sample.get("id"), sample.get("title")
        if isinstance(ident, str) and ident:
            labels.append(ident)
        elif isinstance(title, str) and title.strip():
            labels.append(f'"{_shorten(title.strip())}"')
        else:
            labels.append(f"request {position}")
    seen = Counter(labels)
    return [
        f"{label} (request {position})"
        if (seen[label] > 1 or label in taken) and label != f"request {position}"
        else label
        for position, label in enumerate(labels, start=1)
    ]


def _shorten(text: str, limit: int = LABEL_WIDTH) -> str:
    """One line of at most ``limit`` characters: a label, not the whole title."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
