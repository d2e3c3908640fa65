"""The HTTP listener of a real daemon under hostile clients: trickled heads and bodies, idle
floods past the connection cap, requests aiohttp or Postgres would choke on, Slack replays."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix
from tests.integration.test_http import SECRET, RecordingAlerts, block_actions, serve_with, signed

HEAD_TIMEOUT = 1.0
MAX_CONNECTIONS = 8


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.delenv("NOTIFIERD_API_TOKEN", raising=False)
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        http_head_timeout=HEAD_TIMEOUT,
        http_body_timeout=HEAD_TIMEOUT,
        http_max_connections=MAX_CONNECTIONS,
    ):
        yield r


@pytest.fixture
async def http(running: Running) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=running.http_url) as session:
        yield session


async def _connect(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = running.http_url.removeprefix("http://").rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before closing; fails when it keeps the connection longer."""
    async with asyncio.timeout(seconds):
        return await reader.read()  # to EOF


# -- deadlines -----------------------------------------------------------------------------------


async def test_a_client_trickling_its_request_head_is_cut(running: Running) -> None:
    reader, writer = await _connect(running)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")

    async def trickle() -> None:
        for i in range(100):
            writer.write(f"X-Slow-{i}: y\r\n".encode())
            await asyncio.sleep(0.2)

    trickling = asyncio.create_task(trickle())
    try:
        assert await _closed_within(reader, HEAD_TIMEOUT + 2) == b""
    finally:
        trickling.cancel()
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed(running: Running) -> None:
    reader, writer = await _connect(running)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await _closed_within(reader, HEAD_TIMEOUT + 2)
    assert answer.startswith(b"HTTP/1.1 200")  # answered, kept alive, then closed when idle
    writer.close()


async def test_a_client_trickling_its_body_gets_408(running: Running) -> None:
    reader, writer = await _connect(running)
    writer.write(
        b"POST /api/v1/notify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    answer = await _closed_within(reader, HEAD_TIMEOUT + 2)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"the request body did not arrive within 1 s" in answer
    writer.close()


# -- the connection cap --------------------------------------------------------------------------


async def test_an_idle_flood_past_the_cap_leaves_healthz_and_deliveries_working(
    running: Running, http: aiohttp.ClientSession
) -> None:
    flood = [await _connect(running) for _ in range(MAX_CONNECTIONS * 5)]
    try:
        for _, writer in flood:
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # a head that never ends
        async with asyncio.timeout(1.0):  # well before any head deadline frees a slot
            async with http.get("/healthz") as resp:
                assert resp.status == 200
            async with http.post("/api/v1/notify", json={"title": "t", "message": "m"}) as resp:
                assert resp.status == 202
                request_id = (await resp.json())["id"]
        assert (await running.status(request_id))["status"] == "delivered"
        held = sum(1 for reader, _ in flood if not reader.at_eof())
        assert held <= MAX_CONNECTIONS
    finally:
        for _, writer in flood:
            writer.close()


# -- malformed requests: a 400 with a reason, no traceback ---------------------------------------


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.exc_text] == []


async def test_a_lone_surrogate_in_a_title_is_a_400(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"title": "\\ud800", "message": "m"}'
    async with http.post(
        "/api/v1/notify", data=body, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400
        answer = await resp.json()
    assert answer["error"] == "invalid request"
    assert "unpaired UTF-16 surrogate" in answer["problems"][0]
    _no_traceback(caplog)


@pytest.mark.parametrize("path", ["/api/v1/requests/%00", "/api/v1/requests/a%0Ab"])
async def test_an_id_no_request_can_have_is_a_400(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    async with http.get(path) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"].startswith("invalid request id: ids contain no")
    async with http.post("/api/v1/alerts/%00/ack") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"].startswith("invalid alert id")
    _no_traceback(caplog)


async def test_an_oversized_request_line_is_a_400_in_one_log_line(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader, writer = await _connect(running)
    writer.write(b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await _closed_within(reader, 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400")  # aiohttp answers 1.0 when the line is unreadable
    assert b"application/json" in head
    assert body == (
        b'{"error": "bad HTTP request: the request line or a header is longer than the server '
        b'reads (8190 bytes)"}'
    )
    _no_traceback(caplog)
    assert any("bad request from 127.0.0.1" in r.getMessage() for r in caplog.records)


async def test_past_the_cap_with_every_connection_busy_a_newcomer_gets_503(
    running: Running,
) -> None:
    busy = [await _connect(running) for _ in range(MAX_CONNECTIONS)]
    try:
        for _, writer in busy:  # whole heads, bodies still to come: requests in hand
            writer.write(b"POST /api/v1/notify HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
            await writer.drain()
        await asyncio.sleep(0.2)
        reader, writer = await _connect(running)
        answer = await _closed_within(reader, HEAD_TIMEOUT / 2)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503")
        assert b"Retry-After: 1" in answer and b"too many connections" in answer
    finally:
        for _, writer in busy:
            writer.close()


# -- Slack: an exact replay inside the 5-minute window -------------------------------------------


async def test_an_exact_slack_replay_inside_the_window_is_refused(
    running: Running, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    alerts = RecordingAlerts(known={"a1"})
    serve_with(running, monkeypatch, alerts=alerts)
    body = block_actions("notifierd_ack", "a1")
    headers = signed(body, age=60)  # a minute old: fresh, and still fresh when replayed
    async with http.post("/slack/interactions", data=body, headers=headers) as resp:
        assert resp.status == 200
    async with http.post("/slack/interactions", data=body, headers=headers) as resp:
        assert resp.status == 401
        assert await resp.json() == {
            "error": "invalid Slack request: this exact request was already received (replay)"
        }
    # A new press of the same button is signed anew (another timestamp): not a replay.
    async with http.post("/slack/interactions", data=body, headers=signed(body)) as resp:
        assert resp.status == 200
    assert [call[:2] for call in alerts.calls] == [("acknowledge", "a1")] * 2
    # The mark is in Redis, where every replica looks, for as long as a replay could be fresh.
    key = running.daemon.services.keys.slack_request(headers["X-Slack-Signature"])
    assert 0 < await running.redis.redis.ttl(key) <= 600
