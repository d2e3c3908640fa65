"""One failing escalation step must not spoil its batch: every other step of the batch is
recorded as fired and pages once; the failing one is retried alone and pages once.

Both tests build a backlog of due level-1 steps (alerts opened by one daemon, which stops before
they fall due; the next daemon finds them all due and fires them in one batch), as after a
restart or a slow pass.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from notifierd.alerts.escalator import STEP_RETRY
from notifierd.pipeline.render import Renderer
from notifierd.request import Request
from notifierd.routing.router import Router
from tests.fakes.clock import SkippingClock
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, daemon_running, write_config
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
  escalation: {misfire_grace: 1h}
channels:
  sink: {type: webhook, url: "${SINK_URL}"}
  pager: {type: webhook, url: "${FLAKY_URL}"}
rate_limits:
  - %s
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
"""
POLICY = """\
levels:
  - {after: %s, channels: [pager]}
"""
UNLIMITED = "{channel: sink, limit: 100000, window: 1s}"  # present so the list is not empty
# Seconds (on the test's clock): long enough for the first daemon to open every alert and stop.
FIRST_LEVEL_AFTER = 3.0
# Claims last 120 s in the daemon; shortened so that a step claimed and never recorded fires
# again within the test (the duplicate page a user would see two minutes later).
LEASE = 3.0
# Real seconds for the escalator's polls (every 0.2 s) to fire what a skip of the clock made due.
POLLS = 1.0


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_url)
    try:
        yield conn
    finally:
        await conn.close()


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: Callable[[], Awaitable[str]]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s: {await what()}")


def pages(pager: WebhookSink) -> dict[str, int]:
    """How many level-1 pages each alert got: step request ids are ``<alert>:r1l1``."""
    out: dict[str, int] = {}
    for body in pager.bodies():
        alert, _, step = body["request_id"].rpartition(":")
        assert step == "r1l1", body["request_id"]
        out[alert] = out.get(alert, 0) + 1
    return out


async def step_statuses(db: asyncpg.Connection) -> dict[str, str]:
    rows = await db.fetch("SELECT alert_id, status FROM escalation_steps WHERE level = 1")
    return {r["alert_id"]: r["status"] for r in rows}


async def due_backlog(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
    config: Path,
    sinks: dict[str, WebhookSink],
    total: int,
    clock: SkippingClock,
) -> list[str]:
    """Open ``total`` alerts with a first daemon that stops before their level 1 is due; returns
    the alert ids once every level-1 step is due and none has fired."""
    ids = [f"alert-{i:03d}" for i in range(total)]
    async with daemon_running(
        tmp_path, pg_url, redis_prefix, monkeypatch, config_dir=config, clock=clock, **sinks
    ) as first:
        await first.redis.redis.lpush(
            first.queue,
            *(
                json.dumps(
                    {
                        "id": rid,
                        "kind": "alert",
                        "title": "disk full",
                        "message": rid,
                        "dedup_key": rid,
                    }
                )
                for rid in ids
            ),
        )

        async def all_open() -> bool:
            return len(await step_statuses(db)) == total

        async def what() -> str:
            return f"{len(await step_statuses(db))} of {total} alerts opened"

        await wait_until(all_open, FIRST_LEVEL_AFTER - 1, what)
    assert set((await step_statuses(db)).values()) == {"pending"}, "a step fired too early"
    clock.skip(FIRST_LEVEL_AFTER + 0.2)  # every level 1 is due now
    return ids


async def check_each_paged_once(
    running: Running, db: asyncpg.Connection, ids: list[str], bound: float
) -> None:
    """Within ``bound`` every step is recorded fired and every alert paged; then, after a lease
    has run out (a claimed step that was never recorded fires again), still one page each."""

    async def all_fired() -> bool:
        steps = await step_statuses(db)
        return all(steps.get(rid) == "fired" for rid in ids) and set(pages(running.flaky)) >= set(
            ids
        )

    async def what() -> str:
        steps = await step_statuses(db)
        by: dict[str, int] = {}
        for rid in ids:
            by[steps.get(rid, "missing")] = by.get(steps.get(rid, "missing"), 0) + 1
        paged = pages(running.flaky)
        return (
            f"level-1 steps by status {by}; {len(set(paged) & set(ids))} of {len(ids)} alerts "
            f"paged, {sum(n > 1 for n in paged.values())} paged more than once"
        )

    await wait_until(all_fired, bound, what)
    assert running.clock is not None
    running.clock.skip(LEASE + 1.0)  # a step left claimed but unrecorded would fire again now
    await asyncio.sleep(POLLS)
    paged = pages(running.flaky)
    twice = {rid: n for rid, n in paged.items() if n > 1}
    assert not twice, f"{len(twice)} of {len(ids)} alerts paged more than once at level 1"
    assert paged == dict.fromkeys(ids, 1)


async def test_a_step_that_raises_does_not_spoil_its_batch(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """50 level-1 steps fire in one batch; processing one of them raises once (a bug, say in
    routing). The other 49 are recorded and page once; the failing one is retried alone."""
    sink, pager = WebhookSink(), WebhookSink()
    await sink.start()
    await pager.start()
    sinks = {"sink": sink, "flaky": pager}
    try:
        config = write_config(
            tmp_path / "config",
            ROUTES % UNLIMITED,
            {"policies/oncall.yaml": POLICY % f"{FIRST_LEVEL_AFTER:g}s"},
        )
        clock = SkippingClock()
        ids = await due_backlog(
            tmp_path, pg_url, redis_prefix, monkeypatch, db, config, sinks, total=50, clock=clock
        )
        failing = f"{ids[7]}:r1l1"
        raised: list[str] = []
        route = Router.route

        def route_or_raise(self: Router, request: Request, now: Any, *more: Any) -> Any:
            if request.id == failing and not raised:
                raised.append(request.id)
                raise RuntimeError(f"a bug while routing {failing}")
            return route(self, request, now, *more)

        monkeypatch.setattr(Router, "route", route_or_raise)
        async with daemon_running(
            tmp_path,
            pg_url,
            redis_prefix,
            monkeypatch,
            config_dir=config,
            escalation_poll=0.2,
            clock=clock,
            **sinks,
        ) as second:
            second.daemon.services.escalator.lease = LEASE

            async def others_fired() -> bool:
                steps = await step_statuses(db)
                return raised == [failing] and all(
                    steps.get(rid) == "fired" for rid in ids if rid != ids[7]
                )

            async def what() -> str:
                return f"raised {raised}; level-1 steps {await step_statuses(db)}"

            await wait_until(others_fired, 10, what)
            assert (await step_statuses(db))[ids[7]] == "firing"  # claimed, due again later
            clock.skip(STEP_RETRY)
            await check_each_paged_once(second, db, ids, bound=7)
            assert raised == [failing]
    finally:
        await sink.stop()
        await pager.stop()


async def test_a_delivery_that_raises_is_dead_lettered_and_spoils_no_other_page(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """A bug in rendering one step's page: that delivery is dead (in the dead-letter queue,
    with the error, replayable); the batch's 49 other alerts are paged exactly once."""
    sink, pager = WebhookSink(), WebhookSink()
    await sink.start()
    await pager.start()
    sinks = {"sink": sink, "flaky": pager}
    try:
        config = write_config(
            tmp_path / "config",
            ROUTES % UNLIMITED,
            {"policies/oncall.yaml": POLICY % f"{FIRST_LEVEL_AFTER:g}s"},
        )
        clock = SkippingClock()
        ids = await due_backlog(
            tmp_path, pg_url, redis_prefix, monkeypatch, db, config, sinks, total=50, clock=clock
        )
        failing = f"{ids[7]}:r1l1"
        render = Renderer.render

        def render_or_raise(self: Renderer, *args: Any, **kwargs: Any) -> Any:
            if self.request.id == failing:
                raise RuntimeError(f"a bug while rendering {failing}")
            return render(self, *args, **kwargs)

        monkeypatch.setattr(Renderer, "render", render_or_raise)
        async with daemon_running(
            tmp_path,
            pg_url,
            redis_prefix,
            monkeypatch,
            config_dir=config,
            escalation_poll=0.2,
            clock=clock,
            **sinks,
        ) as second:
            second.daemon.services.escalator.lease = LEASE
            others = [rid for rid in ids if rid != ids[7]]

            async def recorded() -> bool:
                steps = await step_statuses(db)
                return all(steps.get(rid) == "fired" for rid in ids)

            async def what() -> str:
                return f"level-1 steps {await step_statuses(db)}"

            await wait_until(recorded, 10, what)
            clock.skip(LEASE + 1.0)  # nothing left claimed fires again
            await asyncio.sleep(POLLS)
            assert pages(second.flaky) == dict.fromkeys(others, 1)
            letters = await second.store.dlq_list(None, 10)
            assert [(r.kind, r.request_id, r.channel) for r in letters] == [
                ("delivery", failing, "pager")
            ]
            assert "a bug while rendering" in (letters[0].error or "")
    finally:
        await sink.stop()
        await pager.stop()


async def test_escalation_batch_under_a_rate_limit_pages_each_alert_once(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    db: asyncpg.Connection,
) -> None:
    """200 level-1 steps fire in one batch to a rate-limited pager channel: waiting for quota
    must not fail steps (today: Too many connections), and each alert is paged exactly once."""
    sink, pager = WebhookSink(), WebhookSink()
    await sink.start()
    await pager.start()
    sinks = {"sink": sink, "flaky": pager}
    try:
        config = write_config(
            tmp_path / "config",
            ROUTES % "{channel: pager, limit: 100, window: 1s}",
            {"policies/oncall.yaml": POLICY % f"{FIRST_LEVEL_AFTER:g}s"},
        )
        clock = SkippingClock()
        ids = await due_backlog(
            tmp_path, pg_url, redis_prefix, monkeypatch, db, config, sinks, total=200, clock=clock
        )
        async with daemon_running(
            tmp_path,
            pg_url,
            redis_prefix,
            monkeypatch,
            config_dir=config,
            escalation_poll=0.2,
            clock=clock,
            **sinks,
        ) as second:
            second.daemon.services.escalator.lease = LEASE
            await check_each_paged_once(second, db, ids, bound=LEASE + 6)
    finally:
        await sink.stop()
        await pager.stop()
