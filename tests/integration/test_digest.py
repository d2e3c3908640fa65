"""Digest instead of delay, through the running daemon: a Slack channel limited to one message
per second under a burst sends a handful of messages, the digests listing every held title
exactly once, and each held delivery is recorded ``digested`` into its digest."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, daemon_running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  ops-slack:
    type: slack
    token: ${SLACK_BOT_TOKEN}
    api_url: ${SLACK_URL}
    default_recipients: ["#ops"]
rate_limits:
  - {channel: ops-slack, limit: 1, window: 1s%s}
routes:
  - name: default
    channels: [ops-slack]
"""
DIGEST = ", overflow: digest, digest_after: 1s"
BURST = 200
TITLE = re.compile(r"burst-\d{3}")


async def run_daemon(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    overflow: str,
) -> AsyncIterator[Running]:
    async for r in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, routes=ROUTES % overflow
    ):
        yield r


@pytest.fixture
async def digesting(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> AsyncIterator[Running]:
    async for r in run_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, DIGEST):
        yield r


@pytest.fixture
async def delaying(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> AsyncIterator[Running]:
    async for r in run_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, ""):
        yield r


async def burst(running: Running, count: int) -> list[str]:
    return [
        str(await running.push({"title": f"burst-{i:03}", "message": "-"})) for i in range(count)
    ]


async def statuses(running: Running) -> Counter[str]:
    rows = await running.store.pool.fetch("SELECT status FROM deliveries")
    return Counter(r["status"] for r in rows)


async def wait_until_held(running: Running, count: int, timeout: float = 15.0) -> None:
    """Until at least ``count`` deliveries are held by the rate limit."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await statuses(running))["held"] < count:
        assert asyncio.get_running_loop().time() < deadline, await statuses(running)
        await asyncio.sleep(0.05)


async def wait_until_settled(running: Running, originals: int, timeout: float = 20.0) -> None:
    """Until every original is delivered or digested and no digest is still being sent."""
    deadline = asyncio.get_running_loop().time() + timeout
    found: Counter[str] = Counter()
    while asyncio.get_running_loop().time() < deadline:
        found = await statuses(running)
        digests = await running.store.pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE request_id LIKE 'digest-%'"
        )
        if found["digested"] + found["delivered"] - digests == originals and not (
            found["held"] or found["retrying"] or found["queued"] or found["sending"]
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not settled in {timeout}s: {found}")


async def test_a_burst_goes_out_as_a_few_messages_listing_every_title_once(
    digesting: Running, slack_api: FakeSlackAPI
) -> None:
    ids = await burst(digesting, BURST)
    await wait_until_settled(digesting, BURST)

    posts = [p["text"] for p in slack_api.posted()]
    digests = [t for t in posts if "held by the rate limit" in t]
    assert digests, posts
    assert len(posts) <= 10, f"{len(posts)} messages for a burst of {BURST}"
    listed = Counter(title for text in posts for title in TITLE.findall(text))
    assert listed == Counter(f"burst-{i:03}" for i in range(BURST))  # none lost, none twice
    for text in digests:  # "N notifications held by the rate limit", one line per title
        count = int(text.split()[0])
        assert count == len(TITLE.findall(text))
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}burst-\d{3}", text)

    # Each original on record: delivered alone, or digested into a digest that was delivered.
    rows = await digesting.store.pool.fetch(
        "SELECT d.request_id, d.status, g.status AS digest_status, g.request_id AS digest_request"
        " FROM deliveries d LEFT JOIN deliveries g ON g.id = d.digested_into"
        " WHERE d.request_id = ANY($1::text[])",
        ids,
    )
    assert len(rows) == BURST
    by_status = Counter(r["status"] for r in rows)
    assert set(by_status) == {"delivered", "digested"}
    assert by_status["digested"] == sum(int(t.split()[0]) for t in digests)
    assert all(
        r["digest_status"] == "delivered" and r["digest_request"].startswith("digest-")
        for r in rows
        if r["status"] == "digested"
    )
    # The request's status reads as done, with the digest named in the note.
    # (By the row's own request id: rows come back in no particular order.)
    one = next(r["request_id"] for r in rows if r["status"] == "digested")
    shown = await digesting.store.request_status(one)
    assert shown is not None and shown["status"] == "delivered"
    (delivery,) = shown["deliveries"]
    assert delivery["status"] == "digested" and delivery["digested_into"]
    assert f"sent in digest {delivery['digested_into']}" in (delivery["note"] or "")


async def test_without_digest_the_limit_delays_each_message(
    delaying: Running, slack_api: FakeSlackAPI
) -> None:
    ids = await burst(delaying, 3)
    for rid in ids:
        assert (await delaying.status(rid))["status"] == "delivered"
    posts = [p["text"] for p in slack_api.posted()]
    assert sorted(t for text in posts for t in TITLE.findall(text)) == [
        "burst-000",
        "burst-001",
        "burst-002",
    ]
    assert not any("held by the rate limit" in t for t in posts)
    assert set(await statuses(delaying)) == {"delivered"}


async def test_a_digest_whose_channel_is_down_is_retried_and_lists_each_title_once(
    digesting: Running, slack_api: FakeSlackAPI
) -> None:
    first = await digesting.push({"title": "burst-000", "message": "-"})
    assert (await digesting.status(str(first)))["status"] == "delivered"
    slack_api.fail_next(1000, 500)  # Slack is down: every send fails for now
    ids = [
        first,
        *[await digesting.push({"title": f"burst-{i:03}", "message": "-"}) for i in range(1, 20)],
    ]

    async def digest_waits_for_retry() -> bool:
        return bool(
            await digesting.store.pool.fetchval(
                "SELECT count(*) FROM deliveries WHERE request_id LIKE 'digest-%'"
                " AND status = 'retrying'"
            )
        )

    deadline = asyncio.get_running_loop().time() + 15
    while not await digest_waits_for_retry():
        assert asyncio.get_running_loop().time() < deadline, await statuses(digesting)
        await asyncio.sleep(0.1)
    slack_api.reset()  # back up: the retrier sends what failed
    await wait_until_settled(digesting, 20, timeout=30)

    posts = [p["text"] for p in slack_api.posted()]
    listed = Counter(title for text in posts for title in TITLE.findall(text))
    assert listed == Counter(f"burst-{i:03}" for i in range(20))
    assert any("held by the rate limit" in t for t in posts)
    assert len(ids) == 20


async def test_two_replicas_list_each_held_title_in_exactly_one_digest(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    shared = {"sink": sink, "flaky": flaky, "routes": ROUTES % DIGEST}
    try:
        async with (
            daemon_running(tmp_path / "a", pg_url, redis_prefix, monkeypatch, **shared) as a,
            daemon_running(tmp_path / "b", pg_url, redis_prefix, monkeypatch, **shared),
        ):
            await burst(a, 100)  # one queue: both replicas take from it
            await wait_until_settled(a, 100)
    finally:
        await sink.stop()
        await flaky.stop()
    posts = [p["text"] for p in slack_api.posted()]
    listed = Counter(title for text in posts for title in TITLE.findall(text))
    assert listed == Counter(f"burst-{i:03}" for i in range(100))
    assert len(posts) <= 10, f"{len(posts)} messages for a burst of 100"


async def test_what_is_held_when_a_reload_drops_the_digest_is_sent_one_by_one(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    # One message per 10 s: the first takes the slot, the rest are held and no digest can go
    # out before the reload (digested after 5 s, not the 1 s of the other tests: seeing three
    # held and reloading took longer than 1 s in a CI run).
    slow = ROUTES.replace("window: 1s%s", "window: 10s%s") % DIGEST.replace("1s", "5s")
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=slow) as r:
        await burst(r, 6)
        await wait_until_held(r, 3)
        # The limit no longer digests (and lets a hundred a second through).
        (r.config / "routes.yaml").write_text(ROUTES.replace("limit: 1,", "limit: 100,") % "")
        assert await r.daemon.reload("test") is True
        await wait_until_settled(r, 6, timeout=30)
        assert (await statuses(r))["digested"] == 0
    posts = [p["text"] for p in slack_api.posted()]
    assert len(posts) == 6 and not any("held by the rate limit" in t for t in posts)
    assert sorted(t for text in posts for t in TITLE.findall(text)) == [
        f"burst-{i:03}" for i in range(6)
    ]


async def test_each_delivery_that_comes_while_the_slot_is_far_off_is_held_at_once(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    # One message per 60 s, digested after 30 s: a delivery that comes after the first was
    # held cannot have a slot within 30 s either. It used to wait in line until the limiter
    # asked Redis again (60 s on), then took the slot, past its digest_after.
    slow = ROUTES.replace("window: 1s%s", "window: 60s%s") % DIGEST.replace("1s", "30s")
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=slow) as r:
        first = await r.push({"title": "burst-000", "message": "-"})
        assert (await r.status(str(first)))["status"] == "delivered"
        for held in (1, 2, 3):  # one at a time, each taken on its own
            await r.push({"title": f"burst-{held:03}", "message": "-"})
            await wait_until_held(r, held, timeout=10)
        assert (await statuses(r))["delivered"] == 1


class ReloadWhileWaitingForASlot:
    """The digester's limiter, with a reload forced into the first slot it asks for once armed:
    the moment a pass that began under the old config waits on Redis."""

    def __init__(self, real: Any, reload: Any) -> None:
        self.real = real
        self.reload = reload
        self.armed = False
        self.reloaded = asyncio.Event()

    async def try_acquire_all(self, limits: Any) -> Any:
        if self.armed and not self.reloaded.is_set():
            self.armed = False
            await self.reload()
            # Past the old limit's window, so the old limit alone would grant the slot.
            await asyncio.sleep(3.2)
            self.reloaded.set()
        return await self.real.try_acquire_all(limits)


async def test_a_digest_pass_that_a_reload_overtakes_sends_no_digest(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    # One message per 3 s: the first takes the slot, the rest are held, and the digest pass
    # 1 s later waits for a slot while the reload overtakes it.
    waiting = ROUTES.replace("window: 1s%s", "window: 3s%s") % DIGEST
    async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, routes=waiting) as r:
        digester = r.daemon.services.digester

        async def reload() -> None:
            (r.config / "routes.yaml").write_text(ROUTES.replace("limit: 1,", "limit: 100,") % "")
            assert await r.daemon.reload("test") is True

        forced = ReloadWhileWaitingForASlot(digester.limiter, reload)
        monkeypatch.setattr(digester, "limiter", forced)
        # Armed before the burst: the digester asks for a slot only for deliveries held
        # digest_after (1 s), so the reload comes with its first pass. Armed after seeing them
        # held, a slow CI run armed it after the old window (3 s) had granted the digest.
        forced.armed = True
        await burst(r, 6)
        await wait_until_held(r, 3)
        await asyncio.wait_for(forced.reloaded.wait(), 15)
        await wait_until_settled(r, 6, timeout=30)
        assert (await statuses(r))["digested"] == 0
    posts = [p["text"] for p in slack_api.posted()]
    assert not any("held by the rate limit" in t for t in posts), posts
    assert sorted(t for text in posts for t in TITLE.findall(text)) == [
        f"burst-{i:03}" for i in range(6)
    ]
