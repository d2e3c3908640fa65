"""The console's pages against a running daemon: each renders the state the API shows, its
stylesheet and script are served, and a page needs the view role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0"):
        for n, title in enumerate(["disk <full>", "db down"]):
            await r.push(
                {
                    "id": f"ui-{n}",
                    "kind": "alert",
                    "action": "trigger",
                    "dedup_key": f"ui-{n}",
                    "title": title,
                    "severity": "critical",
                }
            )
            await r.status(f"ui-{n}")
        yield r


async def test_alerts_page_lists_open_alerts_escaped(running: Running) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.get("/ui/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/ui/alerts"
        async with http.get("/ui/alerts") as resp:
            assert resp.status == 200
            assert resp.headers["Cache-Control"] == "no-store"
            html = await resp.text()
    assert "db down" in html
    assert "disk &lt;full&gt;" in html and "disk <full>" not in html
    assert html.count('data-action="ack"') == 2
    assert '<meta name="viewport"' in html


async def test_static_files_are_served_without_credentials(running: Running) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        for name, kind in (("console.css", "text/css"), ("console.js", "javascript")):
            async with http.get(f"/ui/static/{name}") as resp:
                assert resp.status == 200, name
                assert kind in resp.headers["Content-Type"]
        async with http.get("/ui/static/../routes.py") as resp:
            assert resp.status in (403, 404)
