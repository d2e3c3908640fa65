"""An alert's timeline as `alerts show` and GET /api/v1/alerts/{id} give it: each entry carries
every column of query alert_timeline, timestamps as ISO-8601 text, in the order they happened."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from notifierd.store.alerts import AlertStore
from notifierd.store.db import Store
from notifierd.store.queries import q
from notifierd.store.rows import EventCursor, TimelinePage

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


async def test_a_long_timeline_reads_page_by_page_newest_first_without_gaps(pg_url: str) -> None:
    """Pages of the newest events, then older ones by the token each page gives, hold the
    whole timeline once, in its order — also where events share a moment."""
    store = await Store.connect(pg_url)
    try:
        await store.pool.execute(
            "INSERT INTO alerts (id, dedup_key, status, title, payload, started_at) "
            "VALUES ('a2', 'flap', 'triggered', 'Flapping', '{}'::jsonb, $1)",
            START,
        )
        # 25 events, two at each moment (the id orders them).
        await store.pool.execute(
            "INSERT INTO alert_events (alert_id, kind, detail, at) "
            "SELECT 'a2', 'occurrence', n::text, $1::timestamptz + (n / 2) * interval '1 second' "
            "FROM generate_series(0, 24) AS n",
            START,
        )
        alerts = AlertStore(store.pool)
        whole = await alerts.show("a2")
        assert whole is not None and "timeline_older" not in whole  # the default: every event
        assert [e["detail"] for e in whole["timeline"]] == [str(n) for n in range(25)]
        pages, before = [], None
        while True:
            shown = await alerts.show("a2", TimelinePage(10, before))
            assert shown is not None
            pages.append([e["detail"] for e in shown["timeline"]])
            if shown["timeline_older"] is None:
                break
            before = EventCursor.parse(shown["timeline_older"])
        assert pages == [
            [str(n) for n in range(15, 25)],
            [str(n) for n in range(5, 15)],
            [str(n) for n in range(5)],
        ]
        # A page's entries are the whole timeline's, column for column.
        newest = await alerts.show("a2", TimelinePage(3))
        assert newest is not None and newest["timeline"] == whole["timeline"][-3:]
        assert newest["steps"] == whole["steps"]
        # Exactly a page left: no older page is announced.
        exact = await alerts.show("a2", TimelinePage(25))
        assert exact is not None and exact["timeline_older"] is None
    finally:
        await store.close()


def test_an_event_cursor_token_is_opaque_and_checked() -> None:
    cursor = EventCursor(START, 42)
    assert EventCursor.parse(cursor.token()) == cursor
    for bad in ("", "x", "MjAyNi0xMS0wMQ", EventCursor(START.replace(tzinfo=None), 1).token()):
        assert EventCursor.parse(bad) is None
