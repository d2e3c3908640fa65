"""The generated schema checks: up to date, sound (valid only where jsonschema finds nothing)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from bench.genrepo import generate as generate_repository
from notifierd.config import compiled_schemas
from notifierd.config.compiled_schemas import certainly_valid, generate
from notifierd.config.schemas import schema, validator
from notifierd.config.yamlpos import parse

ROOT = Path(__file__).resolve().parents[2]

# Keywords that mean the same in drafts 4-7 (fastjsonschema) and 2020-12 (jsonschema), plus
# annotations neither checks. A keyword outside this list could be ignored by the generated
# code and so call an invalid document valid: widen it only after checking its meaning.
SAME_MEANING = {
    *("$schema", "$id", "$ref", "$defs", "title", "description", "default", "examples"),
    *("type", "enum", "const", "format", "pattern", "minLength", "maxLength"),
    *("minimum", "maximum", "properties", "additionalProperties", "required"),
    *("propertyNames", "minProperties", "items", "minItems", "maxItems", "uniqueItems"),
    *("allOf", "anyOf", "oneOf", "if", "then"),
    *("x-message", "x-secret"),  # ours: ignored by both
}
# Keywords the generated code asserts and 2020-12 only annotates: it may refuse a document that
# jsonschema accepts (jsonschema then decides), never call valid one that jsonschema refuses.
STRICTER = {"contentEncoding"}  # fastjsonschema decodes the base64; jsonschema does not
_DATA = {"enum", "const", "default", "examples"}
_SCHEMA_MAPS = {"properties", "$defs"}


def _keywords(node: Any, found: list[tuple[str, Any]]) -> None:
    if isinstance(node, list):
        for item in node:
            _keywords(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            found.append((key, value))
            if key in _SCHEMA_MAPS:
                for sub in value.values():
                    _keywords(sub, found)
            elif key not in _DATA:
                _keywords(value, found)


@pytest.mark.parametrize("name", generate.NAMES)
def test_generated_code_is_up_to_date(name: str) -> None:
    path = Path(generate.__file__).parent / "generated" / f"{name}.py"
    assert path.read_text(encoding="utf-8") == generate.source(name), (
        "run: python -m notifierd.config.compiled_schemas.generate"
    )


@pytest.mark.parametrize("name", generate.NAMES)
def test_schemas_use_only_keywords_of_the_same_meaning_in_both_drafts(name: str) -> None:
    found: list[tuple[str, Any]] = []
    _keywords(schema(name), found)
    assert {k for k, _ in found} <= SAME_MEANING | STRICTER
    # Only strings in enums and consts: Python's 1 == True would let a number pass for true.
    assert all(
        isinstance(v, str)
        for k, value in found
        if k in ("enum", "const")
        for v in (value if k == "enum" else [value])
    )
    assert not any(k == "items" and isinstance(v, list) for k, v in found)  # a tuple in draft 7


def _documents(tmp_path: Path) -> list[tuple[str, Any]]:
    """Every file of the shipped example config and of the benchmark's repository (with
    schedules), as (schema name, data)."""
    bench = generate_repository(tmp_path / "bench", templates=10, routes=200, schedules=10)
    kinds = {"routes.yaml": "routes", "policies": "policy", "schedules": "schedule"}
    docs = []
    for root in (ROOT / "config", bench):
        for path in sorted(root.rglob("*.yaml")):
            rel = path.relative_to(root)
            kind = kinds.get(rel.parts[0], "template" if rel.parts[0] == "templates" else None)
            if kind is not None:
                docs.append((kind, parse(path.read_text()).data))
    return docs


_ODD_VALUES = [None, True, False, 0, 1, -1, 1.5, "", "x", "1h", "@v1", [], [""], {}, {"x": 1}]


def _mutate(value: Any, rng: random.Random) -> Any:
    """``value`` with one thing changed somewhere: a key dropped, added or retyped, a list item
    dropped or doubled, a scalar replaced."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = rng.choice(list(value))
        roll = rng.random()
        out = dict(value)
        if roll < 0.2:
            del out[key]
        elif roll < 0.3:
            out[rng.choice(["extra", "nme", key + "s"])] = rng.choice(_ODD_VALUES)
        elif roll < 0.45:
            out[key] = rng.choice(_ODD_VALUES)
        else:
            out[key] = _mutate(value[key], rng)
        return out
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = rng.randrange(len(value))
        roll = rng.random()
        out_list = list(value)
        if roll < 0.2:
            del out_list[i]
        elif roll < 0.35:
            out_list.append(copy.deepcopy(value[i]))
        else:
            out_list[i] = _mutate(value[i], rng)
        return out_list
    if isinstance(value, str) and value and rng.random() < 0.5:
        return rng.choice([value + " ", value.upper(), value[:-1], " " + value, value + "\n"])
    return rng.choice(_ODD_VALUES)


def test_what_the_generated_code_calls_valid_jsonschema_finds_valid(tmp_path: Path) -> None:
    rng = random.Random(22)
    docs = _documents(tmp_path)
    assert len(docs) > 30
    for kind, data in docs:  # the files as written are valid, and found so quickly
        assert not list(validator(kind).iter_errors(data))
        assert certainly_valid(kind, data), kind
    checked = rejected = 0
    for _ in range(3000):
        kind, data = rng.choice(docs)
        broken = _mutate(data, rng)
        if certainly_valid(kind, broken):
            errors = [e.message for e in validator(kind).iter_errors(broken)]
            assert not errors, (kind, json.dumps(broken, default=str)[:500], errors)
            checked += 1
        else:
            rejected += 1
    assert checked > 300 and rejected > 300  # both answers were exercised


def test_a_schema_changed_since_generating_is_checked_by_jsonschema_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = parse((ROOT / "config/policies/critical-incident.yaml").read_text()).data
    assert certainly_valid("policy", policy)
    compiled_schemas._check.cache_clear()
    monkeypatch.setattr(compiled_schemas, "digest", lambda name: "another schema")
    try:
        assert not certainly_valid("policy", policy)
    finally:
        monkeypatch.undo()
        compiled_schemas._check.cache_clear()
    assert certainly_valid("policy", policy)


def test_a_keyword_beside_a_ref_is_checked_as_2020_12_does() -> None:
    """``"matchers": {"$ref": ..., "minItems": 1}``: drafts 4-7 ignore a $ref's siblings, so the
    generated code must not call an empty list valid where jsonschema (2020-12) refuses it."""
    from notifierd.config.compiled_schemas import certainly_valid

    routes = {
        "channels": {"c": {"type": "webhook", "url": "https://example.com/hook"}},
        "routes": [{"name": "default", "channels": ["c"]}],
        "heartbeats": [
            {"name": "watchdog", "interval": "5m", "producer": "am", "from_alert": {"matchers": []}}
        ],
    }
    assert not certainly_valid("routes", routes)
    routes["heartbeats"][0]["from_alert"]["matchers"] = ['alertname="Watchdog"']  # type: ignore[index]
    assert certainly_valid("routes", routes)


# Requests as producers send them: the hot path takes "valid" from the generated code.
_REQUESTS = [
    {"title": "Deployed", "message": "api 1.2 is live"},
    {
        "id": "deploy-42",
        "title": "Deployed",
        "message": "api 1.2 is live",
        "severity": "info",
        "priority": "low",
        "tags": ["deploy", "api"],
        "labels": {"service": "api", "team": "core"},
        "context": {"environment": "prod", "version": "1.2"},
        "metadata": {"sent_at": 1764460800.5},
    },
    {
        "id": "disk-1",
        "kind": "alert",
        "action": "trigger",
        "title": "Disk full",
        "message": "/var is at 99%",
        "severity": "critical",
        "dedup_key": "disk-db1",
        "attachments": [{"filename": "df.txt", "url": "https://example.com/df.txt"}],
    },
]


def test_a_request_the_generated_code_calls_valid_jsonschema_finds_valid() -> None:
    rng = random.Random(23)
    for data in _REQUESTS:
        assert not list(validator("request").iter_errors(data))
        assert certainly_valid("request", copy.deepcopy(data))
    checked = rejected = 0
    for _ in range(3000):
        broken = _mutate(copy.deepcopy(rng.choice(_REQUESTS)), rng)
        if certainly_valid("request", broken):
            errors = [e.message for e in validator("request").iter_errors(broken)]
            assert not errors, (json.dumps(broken, default=str)[:500], errors)
            checked += 1
        else:
            rejected += 1
    assert checked > 300 and rejected > 300  # both answers were exercised


def test_the_generated_request_check_writes_the_schemas_defaults_as_fastjsonschema_does() -> None:
    data = {
        "title": "t",
        "message": "m",
        "attachments": [{"filename": "a.txt", "url": "https://x"}],
    }
    assert certainly_valid("request", data)
    assert data["kind"] == "notification"
    assert data["attachments"][0]["content_type"] == "application/octet-stream"
