"""``notifierd audit`` against Postgres: filters, newest first, a table or JSON, bad values."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner, Result

from notifierd.cli.main import _register, cli
from notifierd.store.audit import Action, AuditEntry, AuditLog, Outcome
from notifierd.store.db import Store


@pytest.fixture
async def audit(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AuditLog]:
    monkeypatch.setenv("POSTGRES_URL", pg_url)
    store = await Store.connect(pg_url, min_size=1, max_size=2)
    log = AuditLog(store.pool)
    for entry in (
        AuditEntry("person:alice", Action.SIGN_IN, "console", origin="10.0.0.7"),
        AuditEntry(
            "unknown",
            Action.SIGN_IN,
            "console",
            origin="10.0.0.9",
            outcome=Outcome.FAILED,
            detail={"reason": "unknown token"},
        ),
        AuditEntry("person:alice", Action.ACKNOWLEDGE, "console", "db-1", "10.0.0.7"),
        AuditEntry("person:bob", Action.RESOLVE, "http", "db-1", "10.0.0.8"),
    ):
        assert await log.record(entry)
    try:
        yield log
    finally:
        await store.close()


async def invoke(*args: str) -> Result:
    _register()
    return await asyncio.to_thread(CliRunner().invoke, cli, ["audit", *args])


async def test_filters_and_json(audit: AuditLog) -> None:
    everything = await invoke("--format", "json")
    assert everything.exit_code == 0, everything.output
    rows = json.loads(everything.stdout)
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("person:bob", "resolve"),
        ("person:alice", "acknowledge"),
        ("unknown", "sign-in"),
        ("person:alice", "sign-in"),
    ]
    failed = json.loads((await invoke("--action", "sign-in", "--format", "json")).stdout)
    assert [(r["origin"], r["outcome"]) for r in failed] == [
        ("10.0.0.9", "failed"),
        ("10.0.0.7", "done"),
    ]
    assert failed[0]["detail"] == {"reason": "unknown token"}
    alice = json.loads((await invoke("--actor", "person:alice", "--format", "json")).stdout)
    assert {r["action"] for r in alice} == {"sign-in", "acknowledge"}
    target = json.loads(
        (await invoke("--target", "db-1", "--limit", "1", "--format", "json")).stdout
    )
    assert [r["actor"] for r in target] == ["person:bob"]
    assert (
        json.loads((await invoke("--since", "2099-01-01T00:00:00Z", "--format", "json")).stdout)
        == []
    )
    assert (
        len(
            json.loads((await invoke("--until", "2099-01-01T00:00:00Z", "--format", "json")).stdout)
        )
        == 4
    )


async def test_a_table_through_a_pipe(audit: AuditLog) -> None:
    shown = await invoke("--action", "resolve")
    assert shown.exit_code == 0, shown.output
    header, row = shown.stdout.splitlines()
    assert header.split("\t") == [
        "at",
        "actor",
        "action",
        "target",
        "via",
        "origin",
        "outcome",
        "detail",
    ]
    assert row.split("\t")[1:7] == ["person:bob", "resolve", "db-1", "http", "10.0.0.8", "done"]


async def test_bad_values_are_usage_errors(audit: AuditLog) -> None:
    for args in (("--action", "dance"), ("--actor", "two words"), ("--since", "yesterday")):
        result = await invoke(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith("error: "), args
