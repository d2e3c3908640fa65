"""Searching deliveries (GET /api/v1/deliveries, `notifierd history`) against a real Postgres:
every filter alone and combined finds exactly the deliveries a reader would pick by hand, in
newest-first order, page after page; a title's words are words, not LIKE patterns."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from notifierd.status import DeliveryStatus
from notifierd.store.db import Store
from notifierd.store.records import DeliveryRecord, RequestRecord
from notifierd.store.rows import DeliveryCursor, DeliverySearch

START = datetime(2026, 11, 1, tzinfo=UTC)
# Titles with what LIKE would read as wildcards or escapes, and letters lower() folds.
TITLES = [
    "CPU at 100% on db_1",
    "cpu at 1000 on db-1",
    "Disk full on C:\\temp",
    "Disk full on C:/temp",
    "Größe überschritten",
    "GRÖSSE ÜBERSCHRITTEN",
    "Deploy finished",
    "50%_off\\sale",
    "",
]
# (channel, type, recipient) of each request's two deliveries, taken in turn.
CHANNELS = [
    ("ops-slack", "slack", "#ops"),
    ("ops-email", "email", "a@example.com"),
    ("slack", "webhook", ""),  # a channel named like another channel's type
    ("eng-slack", "slack", "#eng"),
]
STATUSES = [DeliveryStatus.DELIVERED, DeliveryStatus.DEAD, DeliveryStatus.RETRYING]


@dataclass(frozen=True)
class Row:
    request_id: str
    title: str | None
    channel: str
    channel_type: str
    recipient: str
    status: DeliveryStatus
    created_at: datetime


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[Store]:
    store = await Store.connect(pg_url)
    try:
        yield store
    finally:
        await store.close()


async def seed(store: Store) -> list[Row]:
    """36 requests of two deliveries, one second apart, titles and channels in turn; one
    request without a title."""
    rows: list[Row] = []
    requests, deliveries = [], []
    for n in range(36):
        rid = f"req-{n:02d}"
        title = TITLES[n % len(TITLES)] if n != 35 else None
        payload = {"id": rid, "message": "m", **({"title": title} if title is not None else {})}
        requests.append(RequestRecord(rid, "notification", "routed", json.dumps(payload), START))
        for j in range(2):
            channel, kind, recipient = CHANNELS[(n + j) % len(CHANNELS)]
            status = STATUSES[(n + j) % len(STATUSES)]
            deliveries.append(DeliveryRecord(rid, channel, kind, recipient, status, attempts=1))
            rows.append(
                Row(rid, title, channel, kind, recipient, status, START + timedelta(seconds=n))
            )
    await store.write_batch(requests, deliveries)
    # A request's two deliveries share their moment: their ids order them.
    await store.pool.execute(
        "UPDATE deliveries SET created_at = $1::timestamptz + "
        "make_interval(secs => substr(request_id, 5)::int)",
        START,
    )
    return rows


def expected(rows: list[Row], search: DeliverySearch, ids: dict[tuple[str, str], str]) -> list[str]:
    """The search done by hand: (request, channel) of the matching rows, newest first."""
    picked = [
        r
        for r in rows
        if (search.request_id is None or r.request_id == search.request_id)
        and (
            search.title is None
            or (r.title is not None and search.title.lower() in r.title.lower())
        )
        and (search.channel is None or search.channel in (r.channel, r.channel_type))
        and (search.recipient is None or r.recipient == search.recipient)
        and (search.status is None or r.status == search.status)
        and (search.since is None or r.created_at >= search.since)
        and (search.until is None or r.created_at < search.until)
    ]
    picked.sort(key=lambda r: (r.created_at, ids[(r.request_id, r.channel)]), reverse=True)
    return [f"{r.request_id}/{r.channel}" for r in picked]


SEARCHES = [
    DeliverySearch(),
    DeliverySearch(request_id="req-07"),
    DeliverySearch(title="cpu"),
    DeliverySearch(title="100%"),
    DeliverySearch(title="db_1"),
    DeliverySearch(title="_"),
    DeliverySearch(title="%"),
    DeliverySearch(title="c:\\temp"),
    DeliverySearch(title="\\"),
    DeliverySearch(title="größe"),
    DeliverySearch(title="ÜBER"),
    DeliverySearch(title="no such words"),
    DeliverySearch(title=""),
    DeliverySearch(channel="slack"),  # the type slack, and the channel named slack
    DeliverySearch(channel="ops-email"),
    DeliverySearch(channel="email"),
    DeliverySearch(recipient="#ops"),
    DeliverySearch(status=DeliveryStatus.DEAD),
    DeliverySearch(status=DeliveryStatus.HELD),
    DeliverySearch(since=START + timedelta(seconds=10), until=START + timedelta(seconds=20)),
    DeliverySearch(channel="slack", status=DeliveryStatus.DEAD),
    DeliverySearch(title="disk", channel="email", status=DeliveryStatus.RETRYING),
    DeliverySearch(recipient="a@example.com", since=START + timedelta(seconds=30)),
    DeliverySearch(
        title="cpu", status=DeliveryStatus.DELIVERED, until=START + timedelta(seconds=30)
    ),
]


async def test_every_search_finds_what_a_reader_would_pick_page_by_page(store: Store) -> None:
    rows = await seed(store)
    ids = {
        (r["request_id"], r["channel"]): str(r["id"])
        for r in await store.pool.fetch("SELECT request_id, channel, id FROM deliveries")
    }
    for search in SEARCHES:
        want = expected(rows, search, ids)
        whole = await store.search_deliveries(_with(search, limit=1000))
        assert [f"{d.request_id}/{d.channel}" for d in whole] == want, search
        # Three at a time, each page after the last row of the one before.
        paged: list[str] = []
        after: DeliveryCursor | None = None
        while True:
            page = await store.search_deliveries(_with(search, limit=3, after=after))
            paged += [f"{d.request_id}/{d.channel}" for d in page]
            if len(page) < 3:
                break
            after = page[-1].cursor
        assert paged == want, search
    assert len(expected(rows, DeliverySearch(title="_"), ids)) == 16  # not every title: no wildcard


async def test_a_title_search_reads_the_title_it_finds(store: Store) -> None:
    await seed(store)
    found = await store.search_deliveries(DeliverySearch(title="Überschritten", limit=100))
    assert {d.title for d in found} == {"Größe überschritten", "GRÖSSE ÜBERSCHRITTEN"}
    assert len(found) == 16  # four requests of each title, two deliveries each


def _with(search: DeliverySearch, **changes: object) -> DeliverySearch:
    return replace(search, **changes)  # type: ignore[arg-type]
