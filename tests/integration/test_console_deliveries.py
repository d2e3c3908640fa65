"""The console's delivery search and request pages against a running daemon: the search form's
filters (the API's parsers), its keyset "Next page" link, a bad filter answered with a 400 page
that says why, and a request's page with its deliveries, their attempts, history, errors and
rendered payload, and the config snapshot that routed it."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.fakes.webhook_sink import WebhookSink
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

PLAIN = [f"plain-{n}" for n in range(5)]


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    # The flaky receiver fails every attempt: its delivery retries, then dies. Its request's
    # id holds a "/" and markup: links quote it as one path segment, pages escape it.
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        flaky=WebhookSink(status=500, body="boom <b>"),
    ):
        for rid in PLAIN:
            await r.push({"id": rid, "title": f"backup {rid} done"})
            await r.status(rid)
        await r.push({"id": "odd/<1>", "title": "disk <full>", "labels": {"target": "flaky"}})
        await r.status("odd/<1>", until=("failed",), timeout=30)
        yield r


async def _get(running: Running, path: str, status: int = 200) -> str:
    async with aiohttp.ClientSession(running.http_url) as http, http.get(path) as resp:
        text = await resp.text()
        assert resp.status == status, text
        assert resp.headers["Content-Type"].startswith("text/html")
        return text


def _requests(html: str) -> list[str]:
    """The request ids of the results table, in order."""
    return [
        htmllib.unescape(rid)
        for rid in re.findall(r'<a href="/ui/requests/[^"]+"><code>([^<]+)</code>', html)
    ]


async def test_deliveries_page_lists_newest_first_escaped(running: Running) -> None:
    html = await _get(running, "/ui/deliveries")
    assert _requests(html) == ["odd/<1>", *reversed(PLAIN)]
    assert "disk &lt;full&gt;" in html and "disk <full>" not in html
    assert 'href="/ui/requests/odd%2F%3C1%3E"' in html
    assert '<span class="badge dead">dead</span>' in html
    assert "boom &lt;b&gt;" in html  # the last error, escaped
    # Every field has a label; the form is a GET, so a search is a link.
    for name in ("request_id", "title", "channel", "recipient", "status", "since", "until"):
        assert f'<label for="f-{name}">' in html and f'id="f-{name}" name="{name}"' in html
    assert '<form class="filters" method="get" action="/ui/deliveries"' in html
    assert 'rel="next"' not in html


async def test_deliveries_page_filters_like_the_api(running: Running) -> None:
    async def found(**query: str) -> list[str]:
        return _requests(await _get(running, "/ui/deliveries?" + urlencode(query)))

    assert await found(status="dead") == ["odd/<1>"]
    assert await found(channel="flaky") == ["odd/<1>"]
    assert await found(channel="webhook") == ["odd/<1>", *reversed(PLAIN)]  # a type too
    assert await found(title="PLAIN-3") == ["plain-3"]  # any case
    assert await found(request_id="plain-2") == ["plain-2"]
    assert await found(until="2000-01-01T00:00:00Z") == []
    assert await found(since="2000-01-01T00:00:00Z", status="delivered") == list(reversed(PLAIN))
    # A submitted form sends its empty fields: they mean "any".
    empty = dict.fromkeys(
        ("request_id", "title", "channel", "recipient", "status", "since", "until"), ""
    )
    assert await found(**empty) == ["odd/<1>", *reversed(PLAIN)]
    # The form shows what was asked.
    html = await _get(running, "/ui/deliveries?status=dead&title=%3Cxyz%3E")
    assert '<option value="dead" selected>' in html and 'value="&lt;xyz&gt;"' in html


async def test_deliveries_page_pages_with_the_api_cursor(running: Running) -> None:
    seen: list[str] = []
    path: str | None = "/ui/deliveries?channel=sink&limit=2"
    pages = 0
    while path is not None:
        html = await _get(running, path)
        seen += _requests(html)
        pages += 1
        link = re.search(r'<a class="button" rel="next" href="([^"]+)"', html)
        path = htmllib.unescape(link.group(1)) if link else None
        if path is not None:
            assert "channel=sink" in path and "limit=2" in path and "cursor=" in path
    assert pages == 3 and seen == list(reversed(PLAIN))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=lost", "status: one of queued, sending"),
        ("since=yesterday", "since: &#39;yesterday&#39; is not an ISO-8601 time"),
        ("cursor=not-a-cursor", "cursor: not a cursor this API gave out"),
        ("limit=100000", "limit: a whole number from 1 to 500"),
        ("recipient=two%20words", "recipient: ids contain no spaces"),
        # Shorter than a trigram: no index serves it (bench/README.md).
        ("title=zq", "title: at least 3 characters"),
        ("title=a%20b%20c", "title: at least 3 characters"),
    ],
)
async def test_a_bad_filter_is_a_400_page_that_says_why(
    running: Running, query: str, message: str
) -> None:
    html = await _get(running, f"/ui/deliveries?{query}", status=400)
    assert '<p class="error" role="alert" id="search-error">' in html
    assert message in html
    assert "<form" in html  # to correct it
    async with (
        aiohttp.ClientSession(running.http_url) as http,
        http.get(f"/api/v1/deliveries?{query}") as resp,
    ):
        assert resp.status == 400
        assert htmllib.unescape(message) in (await resp.json())["error"]


async def test_request_page_shows_each_delivery_attempts_history_and_payload(
    running: Running,
) -> None:
    html = await _get(running, "/ui/requests/odd%2F%3C1%3E")
    assert "<h1>disk &lt;full&gt;</h1>" in html
    assert "<code>odd/&lt;1&gt;</code>" in html
    section = html.split('<section class="delivery"')[1].split("</section>")[0]
    assert '<span class="badge dead">dead</span>' in section
    assert "<dt>Attempts</dt><dd>4</dd>" in section  # the first and 3 retries
    history = section.split('<table class="history">')[1].split("</table>")[0]
    assert history.count("<tr>") == 1 + 4  # the header, then each attempt
    assert history.count('<span class="badge retrying">retrying</span>') == 3
    assert "boom &lt;b&gt;" in history and "boom <b>" not in html
    # The rendered payload as recorded, pretty-printed and escaped.
    payload = section.split('<pre class="payload">')[1].split("</pre>")[0]
    assert "\n  " in payload and "disk &lt;full&gt;" in payload
    # The config snapshot that routed it: the active one, named as requests record it.
    async with (
        aiohttp.ClientSession(running.http_url) as http,
        http.get("/api/v1/requests/odd%2F%3C1%3E") as resp,
    ):
        snapshot = (await resp.json())["snapshot"]
    assert snapshot and f"<code>{snapshot}</code>" in html
    assert "the active config" in html
    assert '<a href="/ui/alerts/' not in html  # not an alert's


async def test_request_page_for_an_unknown_or_impossible_id(running: Running) -> None:
    missing = await _get(running, "/ui/requests/nope%3Cx%3E", status=404)
    assert "No request" in missing and "nope&lt;x&gt;" in missing
    assert "Not a request id" in await _get(running, "/ui/requests/two%20words", status=400)
