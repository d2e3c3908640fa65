"""The console's live updates on real daemons: an alert a producer triggers and one another
daemon changes reach a signed-in browser's event stream, rendered as the alerts page's row;
twenty browsers cost one poll a second; idle streams get keep-alives; stopping ends them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from notifierd import metrics
from notifierd.console.live import LIVE, LiveUpdates
from notifierd.http.session import COOKIE
from tests.integration.daemon_harness import ROUTES, Running, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_alerts import config as escalation_config
from tests.integration.test_console_sessions import (
    PEOPLE,
    browser,
    session_cookie,
    sign_in,
    start_with_people,
)

STREAM_TIMEOUT = 20.0  # generous: the machine may be loaded; the design target is 2 s


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_with_people(tmp_path, pg_url, redis_prefix, monkeypatch):
        yield r


async def signed_in_cookie(running: Running, token: str = "alice-token") -> str:
    async with browser(running) as http:
        signed = await sign_in(http, token)
    return session_cookie(signed)[COOKIE].value


def live(running: Running) -> LiveUpdates:
    return running.daemon.http.app[LIVE]


async def next_alert(
    stream: aiohttp.ClientResponse, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first ``event: alert`` on ``stream`` whose data ``wanted`` accepts."""
    name = None
    async with asyncio.timeout(STREAM_TIMEOUT):
        async for raw in stream.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name == "alert":
                data = json.loads(line.removeprefix("data: "))
                if wanted(data):
                    return data
            elif not line:
                name = None
    raise AssertionError("the stream ended")


async def until(check: Callable[[], bool], timeout: float = STREAM_TIMEOUT) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def test_an_alert_a_producer_triggers_reaches_the_stream(running: Running) -> None:
    cookie = await signed_in_cookie(running)
    async with (
        aiohttp.ClientSession(running.http_url, cookies={COOKIE: cookie}) as http,
        http.get("/ui/events") as stream,
    ):
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert "default-src 'self'" in stream.headers["Content-Security-Policy"]
        await until(lambda: live(running).clients == 1)
        await asyncio.sleep(1.5)  # the poller has its mark: this alert is news
        rid = await running.push(
            {"kind": "alert", "action": "trigger", "dedup_key": "disk", "title": "disk <full>"}
        )
        found = await next_alert(stream, lambda d: d["id"] == rid)
    assert found["status"] == "triggered"
    assert f'data-alert-id="{rid}"' in found["html"] and found["html"].startswith("<tr")
    assert "disk &lt;full&gt;" in found["html"] and "disk <full>" not in found["html"]


async def test_a_change_another_daemon_makes_reaches_the_stream(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(tmp_path / "config", ROUTES + PEOPLE)
    async for a in start_with_people(tmp_path, pg_url, redis_prefix, monkeypatch, config_dir=cfg):
        async for b in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", config_dir=cfg
        ):
            found, took = await _ack_on_b_seen_on_a(a, b)
    assert 'data-status="acknowledged"' in found["html"]
    print(f"a change on replica B reached a browser on replica A in {took:.2f} s")


async def _ack_on_b_seen_on_a(a: Running, b: Running) -> tuple[dict[str, Any], float]:
    cookie = await signed_in_cookie(a)
    updates = live(a)
    async with (
        aiohttp.ClientSession(a.http_url, cookies={COOKIE: cookie}) as on_a,
        on_a.get("/ui/events") as stream,
        aiohttp.ClientSession(b.http_url, headers={"Authorization": "Bearer alice-token"}) as on_b,
    ):
        await until(lambda: updates.clients == 1)
        async with on_b.post("/api/v1/alerts/db/ack", json={}) as resp:
            assert resp.status == 200
            alert_id = (await resp.json())["id"]
        started = asyncio.get_running_loop().time()
        found = await next_alert(
            stream, lambda d: d["id"] == alert_id and d["status"] == "acknowledged"
        )
        return found, asyncio.get_running_loop().time() - started


async def test_twenty_browsers_cost_at_most_one_query_a_second(running: Running) -> None:
    polls: list[float] = []
    daemon = running.daemon
    real = daemon.alert_changes

    async def counted(after: Any) -> Any:
        polls.append(asyncio.get_running_loop().time())
        return await real(after)

    daemon.alert_changes = counted  # type: ignore[method-assign]
    cookie = await signed_in_cookie(running)
    before = metrics.CONSOLE_CLIENTS._value.get()
    async with aiohttp.ClientSession(running.http_url, cookies={COOKIE: cookie}) as http:
        streams = [await http.get("/ui/events") for _ in range(20)]
        try:
            assert all(s.status == 200 for s in streams)
            await until(lambda: live(running).clients == 20)
            assert metrics.CONSOLE_CLIENTS._value.get() - before == 20
            polls.clear()
            window = 5.0
            await asyncio.sleep(window)
            print(f"{len(polls)} polls in {window:g} s with 20 browsers")
            assert 1 <= len(polls) <= window + 1
            # And each of them still hears of a change.
            await running.push({"kind": "alert", "action": "trigger", "dedup_key": "net"})
            found = await asyncio.gather(
                *(next_alert(s, lambda d: d["status"] == "triggered") for s in streams)
            )
            assert len({d["id"] for d in found}) == 1
        finally:
            for s in streams:
                s.close()
    # The browsers left: noticed within about a second, and the poller stops.
    await until(lambda: live(running).clients == 0)
    await asyncio.sleep(1.5)
    polls.clear()
    await asyncio.sleep(2.5)
    assert polls == []


async def test_an_idle_stream_gets_keep_alives(running: Running) -> None:
    live(running).heartbeat = 0.2
    cookie = await signed_in_cookie(running)
    async with (
        aiohttp.ClientSession(running.http_url, cookies={COOKIE: cookie}) as http,
        http.get("/ui/events") as stream,
    ):
        async with asyncio.timeout(STREAM_TIMEOUT):
            lines = [(await stream.content.readline()).decode() for _ in range(4)]
    assert lines[0].startswith("retry: ")
    assert ": keep-alive\n" in lines


async def test_a_stream_needs_a_session_and_the_view_role(running: Running) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.get("/ui/events", allow_redirects=False) as resp:
            assert resp.status == 303
        async with http.get(
            "/ui/events", headers={"Authorization": "Bearer ci-token"}
        ) as resp:  # a producer: no view
            assert resp.status == 403


async def test_stopping_the_daemon_ends_the_streams(running: Running) -> None:
    cookie = await signed_in_cookie(running)
    async with (
        aiohttp.ClientSession(running.http_url, cookies={COOKIE: cookie}) as http,
        http.get("/ui/events") as stream,
    ):
        updates = live(running)
        await until(lambda: updates.clients == 1)
        stopping = asyncio.create_task(running.daemon.stop_http())
        async with asyncio.timeout(STREAM_TIMEOUT):
            rest = await stream.content.read()  # to the end of the stream
            await stopping
    assert stream.content.at_eof() and b"event:" not in rest
    assert updates.clients == 0


async def test_an_escalation_level_firing_reaches_the_stream(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alert's row does not change when a level fires; the level is news all the same."""
    async for running in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        escalation_poll=0.2,
        **escalation_config(level2="8s"),
    ):
        await _level_two_seen(running)


async def _level_two_seen(running: Running) -> None:
    store = running.daemon.services.alerts.store

    async def fired_levels(alert_id: str) -> list[int]:
        found = await store.show(alert_id)
        return [s["level"] for s in (found or {}).get("steps", []) if s["fired_at"]]

    async with (
        aiohttp.ClientSession(running.http_url) as http,  # an open listener: no sign-in
        http.get("/ui/events") as stream,
    ):
        await until(lambda: live(running).clients == 1)
        rid = await running.push({"kind": "alert", "action": "trigger", "dedup_key": "cpu"})
        assert rid is not None
        await next_alert(stream, lambda d: d["id"] == rid)
        while True:  # what the trigger and level 1 brought, until the stream is quiet
            try:
                await asyncio.wait_for(next_alert(stream, lambda d: d["id"] == rid), 2.5)
            except TimeoutError:
                break
        assert await fired_levels(rid) == [1]
        await next_alert(stream, lambda d: d["id"] == rid)
        assert await fired_levels(rid) == [1, 2]
