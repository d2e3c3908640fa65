"""Slack Block Kit checks for template variants: slack_sdk's block models plus what they miss."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import Any

from notifierd.imports import defer_package_init
from notifierd.templates.message import (
    SLACK_HEADER_MAX,
    SLACK_MAX_BLOCKS,
    SLACK_SECTION_MAX,
    truncate,
)

SLACK_FIELD_MAX = 2000
TEXT_OBJECT_TYPES = ("plain_text", "mrkdwn")


@cache
def _block_models() -> ModuleType:
    """``slack_sdk.models.blocks``, imported on first use; without slack_sdk's own
    ``__init__`` when nothing has imported slack_sdk yet (its web and webhook clients are ~70
    ms of the ~85 ms slack_sdk takes to import alone, and checking blocks uses neither)."""
    defer_package_init("slack_sdk")
    # What that ``__init__`` does first: slack_sdk's records never reach Python's
    # last-resort handler on stderr.
    logging.getLogger("slack_sdk").addHandler(logging.NullHandler())
    return importlib.import_module("slack_sdk.models.blocks")


@cache
def block_types() -> frozenset[str]:
    """Every block type slack_sdk knows."""
    found: set[str] = set()
    pending = list(_block_models().Block.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        kind = getattr(cls, "type", None)
        if isinstance(kind, str):
            found.add(kind)
    return frozenset(found)


def clamp_blocks(blocks: list[Any]) -> list[Any]:
    """Cut texts that runtime values pushed over Slack's limits, which would refuse the message."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        text = block.get("text")
        limit = SLACK_HEADER_MAX if block.get("type") == "header" else SLACK_SECTION_MAX
        if isinstance(text, dict) and isinstance(text.get("text"), str):
            text["text"] = truncate(text["text"], limit)
        fields = block.get("fields")
        if block.get("type") == "section" and isinstance(fields, list):
            for field in fields:
                if isinstance(field, dict) and isinstance(field.get("text"), str):
                    field["text"] = truncate(field["text"], SLACK_FIELD_MAX)
    return blocks


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured_sdk_warnings() -> Iterator[_Capture]:
    # slack_sdk logs (rather than raises) "Unknown element detected and skipped": catch those
    # as problems, and keep them off the user's terminal.
    logger = logging.getLogger("slack_sdk.models")
    capture = _Capture()
    propagate = logger.propagate
    logger.addHandler(capture)
    logger.propagate = False
    try:
        yield capture
    finally:
        logger.removeHandler(capture)
        logger.propagate = propagate


def _text_objects(value: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every composition text object: the value of a ``text`` key, or an item of ``fields``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, dict):
                yield f"{path}.text", item
            if key == "fields" and isinstance(item, list):
                for i, field in enumerate(item):
                    if isinstance(field, dict):
                        yield f"{path}.fields[{i}]", field
            yield from _text_objects(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _text_objects(item, f"{path}[{i}]")


def _own_checks(block: dict[str, Any]) -> list[str]:
    problems = []
    for where, obj in _text_objects(block, block["type"]):
        kind = obj.get("type")
        if kind not in TEXT_OBJECT_TYPES:
            problems.append(f"{where}: text type {kind!r} must be plain_text or mrkdwn")
            continue
        if not str(obj.get("text", "")).strip():
            problems.append(f"{where}: text is empty (Slack refuses empty text)")
    header = block.get("text")
    if (
        block["type"] == "header"
        and isinstance(header, dict)
        and header.get("type") != "plain_text"
    ):
        problems.append("header.text must be plain_text")
    return problems


def validate_blocks(blocks: Any) -> list[tuple[int | None, str]]:
    """(block index or None, message) for everything Slack would refuse in ``blocks``."""
    if not isinstance(blocks, list):
        return [(None, f"must render to a list of blocks, got {type(blocks).__name__}")]
    problems: list[tuple[int | None, str]] = []
    if not blocks:
        problems.append((None, "renders no blocks"))
    if len(blocks) > SLACK_MAX_BLOCKS:
        problems.append((None, f"{len(blocks)} blocks: Slack takes at most {SLACK_MAX_BLOCKS}"))
    known = block_types()
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            problems.append((i, f"block {i}: must be a mapping, got {type(block).__name__}"))
            continue
        kind = block.get("type")
        if kind not in known:
            problems.append(
                (
                    i,
                    f"block {i}: unknown block type {kind!r}; use one of "
                    f"{', '.join(sorted(known))}",
                )
            )
            continue
        problems += [(i, f"block {i} ({kind}): {message}") for message in _block_problems(block)]
    return problems


# What each block seen before was found to lack, by its JSON: validate renders every example of
# every version, and their blocks repeat (a section of fixed text, one example's values). A
# block's problems depend on nothing but its content. Bounded; cleared when full.
_CHECKED: dict[str, tuple[str, ...]] = {}
_CHECKED_MAX = 10_000


def _block_problems(block: dict[str, Any]) -> tuple[str, ...]:
    """What our checks and slack_sdk's models find wrong with one block of a known type."""
    try:
        key: str | None = json.dumps(block, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # keys of mixed types: check it, do not remember it
        key = None
    if key is not None and key in _CHECKED:
        return _CHECKED[key]
    models = _block_models()
    from slack_sdk.errors import SlackObjectFormationError

    found = _own_checks(block)
    with _captured_sdk_warnings() as capture:
        try:
            parsed = models.Block.parse(block)
            if parsed is not None:
                parsed.validate_json()
        except (SlackObjectFormationError, TypeError, ValueError, KeyError) as exc:
            found.append(str(exc))
    result = (*found, *capture.messages)
    if key is not None:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[key] = result
    return result


def validate_card(card: Any) -> list[str]:
    """What a Teams Adaptive Card needs at least: type, version and a list body of elements."""
    if not isinstance(card, dict):
        return [f"must render to an Adaptive Card mapping, got {type(card).__name__}"]
    problems = []
    if card.get("type") != "AdaptiveCard":
        problems.append(f"type must be 'AdaptiveCard', not {card.get('type')!r}")
    if not isinstance(card.get("version"), str):
        problems.append('version is missing: set it as a string, e.g. "1.4"')
    body = card.get("body")
    if not isinstance(body, list):
        problems.append("body must be a list of card elements")
    else:
        for i, element in enumerate(body):
            if not isinstance(element, dict) or not isinstance(element.get("type"), str):
                problems.append(f"body[{i}] must be a mapping with a type (e.g. TextBlock)")
    return problems
