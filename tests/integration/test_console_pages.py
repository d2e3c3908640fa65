"""The console's pages against a running daemon: each renders the state the API shows, its
stylesheet and script are served, and a page needs the view role."""

from __future__ import annotations

import re
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


async def test_config_page_shows_snapshot_refused_reload_and_missing_secrets(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSOLE_TEST_UNSET_URL", raising=False)
    routes = running.config / "routes.yaml"
    good = routes.read_text()
    routes.write_text(
        good.replace(
            "channels:\n",
            'channels:\n  lost: {type: webhook, url: "${CONSOLE_TEST_UNSET_URL}"}\n',
            1,
        )
    )
    assert await running.daemon.reload("test")
    routes.write_text(good + "\nroutes: [oops\n")
    assert not await running.daemon.reload("test")
    async with aiohttp.ClientSession(running.http_url) as http, http.get("/ui/config") as resp:
        assert resp.status == 200
        html = await resp.text()
    assert str(running.daemon.snapshot()) in html
    assert "CONSOLE_TEST_UNSET_URL" in html and '<td data-label="Channel">lost</td>' in html
    assert "routes.yaml:" in html  # the refusal's problems at path:line:col
    assert "still active" in html
    # Loaded and reloaded when, as every page shows a time (the ISO form in the markup).
    assert (
        len(re.findall(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>', html))
        == 2
    )


async def test_audit_page_filters_pages_and_exports(running: Running) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.post("/api/v1/alerts/ui-0/ack") as resp:
            assert resp.status == 200
        async with http.post("/api/v1/alerts/ui-1/resolve") as resp:
            assert resp.status == 200
        # Empty form fields are no filter.
        async with http.get("/ui/audit?actor=&action=&target=&since=&until=") as resp:
            assert resp.status == 200
            html = await resp.text()
        assert html.count("<tr>") == 3  # the header and two entries
        assert "acknowledge" in html and "resolve" in html and "anonymous-local" in html
        async with http.get("/ui/audit?action=resolve&limit=1") as resp:
            html = await resp.text()
        assert '"Action">resolve</td>' in html and '"Action">acknowledge</td>' not in html
        assert 'href="/api/v1/audit?action=resolve"' in html
        async with http.get("/ui/audit?action=acknowledge&limit=1") as resp:
            assert 'rel="next"' not in await resp.text()
        async with http.get("/ui/audit?limit=1") as resp:
            assert 'rel="next"' in await resp.text()
        async with http.get("/ui/audit?action=dance") as resp:
            assert resp.status == 400
            assert "action: one of" in await resp.text()
        async with http.get("/api/v1/audit?action=resolve") as resp:
            exported = await resp.json()
        assert [e["target"] for e in exported["entries"]] == ["ui-1"]


async def test_audit_page_shows_an_entry_detail_as_plain_json(running: Running) -> None:
    """A refused reload's problems quote names: shown as written (escaped by the page), not as
    ``\\u0027``."""
    routes = running.config / "routes.yaml"
    routes.write_text(routes.read_text().replace("    continue: true\n", "", 1) + "\nroutes: 7\n")
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.post("/-/reload") as resp:
            assert resp.status == 422, await resp.text()
            problems = (await resp.json())["problems"]
        async with http.get("/ui/audit?action=reload") as resp:
            html = await resp.text()
    assert "'" in problems[0] and "\\u0027" not in html
    assert "&#34;activated&#34;: false" in html
    assert problems[0].replace("'", "&#39;") in html


async def test_dead_letters_page_lists_and_filters(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSOLE_TEST_UNSET_URL", raising=False)
    routes = running.config / "routes.yaml"
    routes.write_text(
        routes.read_text().replace(
            "channels:\n",
            'channels:\n  lost: {type: webhook, url: "${CONSOLE_TEST_UNSET_URL}"}\n',
            1,
        )
    )
    assert await running.daemon.reload("test")
    # A request id may hold / or #: its link is still one path segment.
    await running.push({"id": "doomed/1#a", "title": "to <nowhere>", "channels": ["lost"]})
    await running.status("doomed/1#a")
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.get("/ui/dead-letters?channel=") as resp:
            assert resp.status == 200
            html = await resp.text()
        assert "to &lt;nowhere&gt;" in html and "CONSOLE_TEST_UNSET_URL" in html
        assert 'data-request="doomed/1#a"' in html
        assert 'href="/ui/requests/doomed%2F1%23a"' in html
        async with http.get("/ui/dead-letters?channel=elsewhere") as resp:
            assert "No dead letters on channel elsewhere." in await resp.text()
        async with http.get("/ui/dead-letters?channel=%00") as resp:
            assert resp.status == 400


async def test_silences_page_lists_what_is_in_force_and_what_ended(running: Running) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        body = {"matchers": ['service="db"'], "duration": "2h", "reason": "moving <the> primary"}
        async with http.post("/api/v1/silences", json=body) as resp:
            assert resp.status == 201, await resp.text()
            first = (await resp.json())["id"]
        body = {"matchers": ['service="web"'], "duration": "1h", "reason": "deploy"}
        async with http.post("/api/v1/silences", json=body) as resp:
            second = (await resp.json())["id"]
        async with http.post(f"/api/v1/silences/{second}/expire") as resp:
            assert resp.status == 200
        # Whatever refresh the daemon runs, the page reads Postgres: both are there at once.
        async with http.get("/ui/silences") as resp:
            assert resp.status == 200
            html = await resp.text()
        assert f'data-silence-id="{first}"' in html and f'data-silence-id="{second}"' not in html
        assert "moving &lt;the&gt; primary" in html and "service=&#34;db&#34;" in html
        assert 'data-runtime-form="silence"' in html and "at most 1d" in html
        async with http.get("/ui/silences?state=recent") as resp:
            html = await resp.text()
        assert f'data-silence-id="{second}"' in html and "ended by anonymous-local" in html
