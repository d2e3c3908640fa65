"""An alert's timeline as `alerts show` and GET /api/v1/alerts/{id} give it: each entry carries
every column of query alert_timeline, timestamps as ISO-8601 text, in the order they happened."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.queries import q

START = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


async def test_the_timeline_shows_every_column_of_each_entry_in_order(pg_url: str) -> None:
    store = await Store.connect(pg_url)
    try:
        await store.pool.execute(
            "INSERT INTO alerts (id, dedup_key, status, title, payload, started_at) "
            "VALUES ('a1', 'disk', 'acknowledged', 'Disk full', $1::jsonb, $2)",
            json.dumps({"title": "Disk full"}),
            START,
        )
        entries = [
            ("triggered", None, "queue", "request a1", START),
            ("occurrence", None, "queue", None, START + timedelta(minutes=1, microseconds=5)),
            ("acknowledged", "alice", "slack", "on it", START + timedelta(minutes=2)),
        ]
        await store.pool.executemany(
            "INSERT INTO alert_events (alert_id, kind, actor, via, detail, at) "
            "VALUES ('a1', $1, $2, $3, $4, $5)",
            entries,
        )
        shown = await AlertStore(store.pool).show("disk")
        assert shown is not None
        assert shown["timeline"] == [
            {"kind": k, "actor": a, "via": v, "detail": d, "at": at.isoformat()}
            for k, a, v, d, at in entries
        ]
        # Every column the query reads, and no other.
        columns = list((await store.pool.fetch(q("alert_timeline"), "a1"))[0].keys())
        assert [list(e) for e in shown["timeline"]] == [columns] * len(entries)
    finally:
        await store.close()
