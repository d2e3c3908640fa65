"""Nothing sent twice, and no channel stalls another: a graceful stop mid-request, the same
request id on two replicas, and a webhook receiver that never answers beside a Slack channel."""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from notifierd.pipeline.intake import IntakeLimits
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, daemon_running
from tests.integration.redis_fixtures import RedisPrefix


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def now_true(value: bool) -> Awaitable[bool]:
    return asyncio.sleep(0, value)


async def statuses(running: Running, ids: list[str]) -> dict[str, str | None]:
    out = {}
    for rid in ids:
        found = await running.store.request_status(rid)
        out[rid] = found["status"] if found else None
    return out


SLACK_AND_SLOW_WEBHOOK = """\
settings:
  retry: {max_retries: 3, initial_delay: 200ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
  slow: {type: webhook, url: "${FLAKY_URL}", timeout: 60s}
routes:
  - name: both
    channels: [chat, slow]
    recipients: ["#ops"]
"""


async def test_a_graceful_stop_mid_request_resends_only_what_was_unfinished(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    """Each request goes to Slack and to a webhook that answers in 20 s. Stopped after the
    Slack messages went out, the daemon returns the requests unfinished; after the restart
    only the webhook deliveries are made — nobody reads a Slack message twice."""
    sink, slow = WebhookSink(), WebhookSink()
    await sink.start()
    await slow.start()
    slow.delay = 20.0
    shared = {"routes": SLACK_AND_SLOW_WEBHOOK, "sink": sink, "flaky": slow}
    ids = [f"deploy-{i:02d}" for i in range(20)]
    try:
        async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, **shared) as first:
            for rid in ids:
                await first.push({"id": rid, "title": "deployed", "message": rid})
            await eventually(
                lambda: now_true(len(slack_api.posted()) == len(ids)), 10, "Slack messages sent"
            )
        # Stopped (5 s shutdown timeout): the webhook sends were cut off, the requests returned.
        assert await redis_prefix.redis.llen(f"{redis_prefix.prefix}:requests") == len(ids)
        slow.delay = 0.0
        async with daemon_running(tmp_path, pg_url, redis_prefix, monkeypatch, **shared) as again:
            for rid in ids:
                assert (await again.status(rid))["status"] == "delivered"
        texts = collections.Counter(m["text"].rsplit("\n", 1)[-1] for m in slack_api.messages)
        assert texts == dict.fromkeys(ids, 1)
    finally:
        await sink.stop()
        await slow.stop()


async def test_the_same_request_id_on_two_replicas_is_sent_once(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A producer that pushed each request twice (a retry after a timeout): whichever replicas
    take the two copies, the request is sent once — the second copy waits for the first and
    finds its record."""
    sink, flaky = WebhookSink(), WebhookSink()
    await sink.start()
    await flaky.start()
    sink.delay = 0.05  # sends take a moment: both copies are in flight at once
    shared = {"sink": sink, "flaky": flaky}
    ids = [f"twice-{i:02d}" for i in range(50)]
    try:
        async with (
            daemon_running(tmp_path / "a", pg_url, redis_prefix, monkeypatch, **shared) as a,
            daemon_running(tmp_path / "b", pg_url, redis_prefix, monkeypatch, **shared) as b,
        ):
            for replica in (a, b):
                replica.daemon.services.intake.limits = IntakeLimits(batch=3)  # batches interleave
            await asyncio.sleep(0.6)  # fetches waiting since before the change time out
            copies = []
            for rid in ids:
                for attempt in (1, 2):
                    copies.append(
                        json.dumps(
                            {"id": rid, "title": "t", "message": "m", "metadata": {"try": attempt}}
                        )
                    )
            await redis_prefix.redis.lpush(a.queue, *copies)
            await eventually(
                lambda: now_true(len(sink.received) >= len(ids)), 15, "every request sent"
            )
            await a.idle()
            await b.idle()
        sent = collections.Counter(body["request_id"] for body in sink.bodies())
        assert sent == dict.fromkeys(ids, 1)
    finally:
        await sink.stop()
        await flaky.stop()


HANGING_WEBHOOK_BESIDE_SLACK = """\
settings:
  retry: {max_retries: 3, initial_delay: 200ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}", api_url: "${SLACK_URL}"}
  hang: {type: webhook, url: "${FLAKY_URL}", timeout: 3s}
routes:
  - name: hanging
    matchers: ['target="hang"']
    channels: [hang]
  - name: default
    channels: [chat]
    recipients: ["#ops"]
"""


async def test_a_receiver_that_never_answers_delays_only_itself(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    slack_api: FakeSlackAPI,
) -> None:
    """300 deliveries to a webhook that never answers (3 s timeout) beside Slack: new Slack
    messages and a Slack retry go out on time while it hangs, and the webhook's deliveries
    reach the dead-letter queue on the retry schedule instead of one timeout after another."""
    sink, hang = WebhookSink(), WebhookSink()
    await sink.start()
    await hang.start()
    hang.delay = 600.0  # accepts, never answers
    try:
        async with daemon_running(
            tmp_path,
            pg_url,
            redis_prefix,
            monkeypatch,
            routes=HANGING_WEBHOOK_BESIDE_SLACK,
            sink=sink,
            flaky=hang,
        ) as r:
            started = time.monotonic()
            hung = [await r.push({"labels": {"target": "hang"}}) for _ in range(300)]
            await asyncio.sleep(0.5)  # the first sends are hanging now
            slack_api.fail_next(1, 500, json={"ok": False, "error": "internal_error"})
            retried = await r.push({"title": "retried", "message": "once"})
            latencies = []
            for i in range(20):
                pushed = time.monotonic()
                rid = await r.push({"title": "on time", "message": str(i)})
                assert rid is not None
                await r.status(rid, until=("delivered",), timeout=10)
                latencies.append(time.monotonic() - pushed)
                await asyncio.sleep(0.1)
            # Polling adds up to 50 ms; without isolation each would wait out the webhook's 3 s.
            assert max(latencies) < 1.5, latencies
            assert retried is not None
            found = await r.status(retried, until=("delivered",), timeout=5)
            assert [h["status"] for h in found["deliveries"][0]["history"]] == [
                "retrying",
                "delivered",
            ]

            async def all_dead() -> bool:
                got = await statuses(r, [rid for rid in hung if rid])
                return set(got.values()) == {"failed"}

            await eventually(all_dead, 20, "the hanging webhook's deliveries dead-lettered")
            # Schedule: a 3 s timeout, retries after 0.2, 0.4 and 0.8 s; most attempts fail
            # fast once the receiver has not answered five sends in a row.
            assert time.monotonic() - started < 15
            letters = await r.store.dlq_list("hang", 500)
            assert len(letters) == 300
            assert {row.attempts for row in letters} == {4}
    finally:
        await sink.stop()
        await hang.stop()
