"""The console's alert and on-call pages against a running daemon: each renders the state the
API shows (open alerts first, their level and next escalation, an alert's timeline with who each
level paged by which contact), escapes what producers wrote, and answers a page for a bad or
unknown id."""

from __future__ import annotations

import asyncio
import html as htmllib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  escalation: {misfire_grace: 1h}
channels:
  chat: {type: slack, token: "${SLACK_BOT_TOKEN}"}
  sink: {type: webhook, url: "${SINK_URL}"}
people:
  alice: {contacts: [{slack: "@U0ALICE"}]}
  bob: {contacts: [{slack: "@U0BOB"}]}
routes:
  - name: alerts
    matchers: ['kind="alert"']
    channels: [sink]
    escalation: oncall
  - name: default
    channels: [sink]
"""
# Level 1 pages whoever is on call in primary at once; level 2 waits an hour.
POLICY = """\
levels:
  - {after: 0s, channels: [chat], recipients: ["schedule:primary"]}
  - {after: 1h, channels: [sink]}
"""
# Daily handoffs between alice and bob: one is on call now, the other next.
PRIMARY = """\
name: Primary <on-call>
handle: on-call-primary
timezone: Europe/Berlin
layers:
  - name: daily
    members: [alice, bob]
    rotation: 1d
    start: 2026-01-01T09:00
"""
# Pushed in this order: ui-1 is then acknowledged, ui-2 resolved.
TITLES = {"ui-0": "disk <full>", "ui-1": "db down", "ui-2": "old news", "ui-3": "cpu hot"}


async def _fired(running: Running, key: str, timeout: float = 15) -> dict[str, Any]:
    """The alert once its first level has fired."""
    deadline = asyncio.get_running_loop().time() + timeout
    found: dict[str, Any] | None = None
    while asyncio.get_running_loop().time() < deadline:
        found = await running.daemon.alerts.store.show(key)
        if found is not None and any(s["status"] == "fired" for s in found["steps"]):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"alert {key}: level 1 did not fire: {found}")


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        routes=ROUTES,
        files={"policies/oncall.yaml": POLICY, "schedules/primary.yaml": PRIMARY},
        http="127.0.0.1:0",
        dry_run=True,
        escalation_poll=0.2,
    ):
        async with aiohttp.ClientSession(r.http_url) as http:
            for rid, title in TITLES.items():
                await r.push(
                    {
                        "id": rid,
                        "kind": "alert",
                        "action": "trigger",
                        "dedup_key": f"key-{rid}",
                        "title": title,
                        "severity": "critical",
                    }
                )
                await r.status(rid)
                await _fired(r, rid)
            for rid, action in (("ui-1", "ack"), ("ui-2", "resolve")):
                async with http.post(f"/api/v1/alerts/{rid}/{action}", json={}) as resp:
                    assert resp.status == 200, await resp.text()
        yield r


async def _page(running: Running, path: str, status: int = 200) -> str:
    async with aiohttp.ClientSession(running.http_url) as http, http.get(path) as resp:
        html = await resp.text()
        assert resp.status == status, html
        assert resp.headers["Content-Type"].startswith("text/html")
        return html


async def _json(running: Running, path: str) -> Any:
    async with aiohttp.ClientSession(running.http_url) as http, http.get(path) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-alert-id="([^"]+)"', html)


async def test_alerts_page_lists_open_alerts_first_with_level_and_next_escalation(
    running: Running,
) -> None:
    async with aiohttp.ClientSession(running.http_url) as http:
        async with http.get("/ui/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/ui/alerts"
        async with http.get("/ui/alerts") as resp:
            assert resp.status == 200
            assert resp.headers["Cache-Control"] == "no-store"
            html = await resp.text()
        async with http.get("/api/v1/alerts") as resp:
            listed = (await resp.json())["alerts"]
    # Triggered newest first, then acknowledged, then resolved: the page and the API agree.
    assert _rows(html) == ["ui-3", "ui-0", "ui-1", "ui-2"]
    assert [a["id"] for a in listed] == _rows(html)
    assert "disk &lt;full&gt;" in html and "disk <full>" not in html
    assert '<meta name="viewport"' in html and "<script>" not in html
    assert html.count('data-action="ack"') == 2  # the triggered ones
    assert html.count('data-action="resolve"') == 3  # every open one
    by_id = {a["id"]: a for a in listed}
    # Level 1 fired; level 2 is due in an hour until someone acknowledges or resolves.
    assert by_id["ui-0"]["current_level"] == 1 and by_id["ui-0"]["current_round"] == 0
    assert by_id["ui-0"]["next_escalation_at"] is not None
    assert by_id["ui-1"]["next_escalation_at"] is None
    assert by_id["ui-2"]["status"] == "resolved" and by_id["ui-2"]["resolved_by"]
    row = html.split('data-alert-id="ui-0"')[1].split("</tr>")[0]
    assert "level 1" in row and re.search(r">in (59m|1h)", row), row
    assert 'data-action="escalate" data-alert="ui-0"' in row
    acked = html.split('data-alert-id="ui-1"')[1].split("</tr>")[0]
    assert "Escalate now" not in acked and "Acknowledge" not in acked


async def test_alerts_page_filters_by_state_and_shows_more(running: Running) -> None:
    assert _rows(await _page(running, "/ui/alerts?state=resolved")) == ["ui-2"]
    html = await _page(running, "/ui/alerts?limit=1")
    assert _rows(html) == ["ui-3"]
    assert 'href="/ui/alerts?limit=2"' in html  # "Show more" doubles the page
    bad = await _page(running, "/ui/alerts?state=sleeping", status=400)
    assert "state: one of triggered, acknowledged, resolved" in bad
    assert "limit: a whole number" in await _page(running, "/ui/alerts?limit=0", status=400)
    # An empty field of a form means "any".
    assert len(_rows(await _page(running, "/ui/alerts?state="))) == 4


async def test_alert_page_shows_its_timeline_who_was_paged_and_its_live_section(
    running: Running,
) -> None:
    html = await _page(running, "/ui/alerts/ui-0")
    assert '<section data-live-alert="ui-0"' in html
    assert "<h1" in html and "disk &lt;full&gt;" in html and "disk <full>" not in html
    # Level 1 paged whoever was on call in primary, by their Slack contact.
    level1 = html.split("<strong>Level 1</strong>")[1].split("</li>\n  </ul>")[0]
    # As `notifierd alerts show` words it: schedule → person → channel and contact.
    assert re.search(
        r"schedule:primary → (alice|bob) → chat @U0(ALICE|BOB) <span[^>]*>\(layer daily\)", level1
    )
    assert '<span class="badge dry_run">dry_run</span>' in level1
    level2 = html.split("<strong>Level 2</strong>")[1]
    assert re.search(r"due in (59m|1h)", level2)
    assert "Triggered" in html
    # The trigger comes before the level it fired.
    assert html.index("<strong>Triggered</strong>") < html.index("<strong>Level 1</strong>")
    for action in ("ack", "resolve", "escalate"):
        assert f'data-action="{action}" data-alert="ui-0"' in html
    assert 'href="/ui/requests/ui-0"' in html
    # The opening request's page and its level 1 notification's link back to the alert.
    opening = await _page(running, "/ui/requests/ui-0")
    assert 'href="/ui/alerts/ui-0"' in opening
    step = await _page(running, "/ui/requests/ui-0:r1l1")
    assert re.search(r'href="/ui/alerts/ui-0">ui-0</a> — level 1<', step)
    assert "schedule:primary" in step and "(layer daily)" in step


async def test_alert_page_shows_who_acknowledged_and_resolved_and_how(running: Running) -> None:
    acked = await _page(running, "/ui/alerts/ui-1")
    assert re.search(r"<strong>Acknowledged</strong> by anonymous-local <span[^>]*>via http", acked)
    assert 'data-action="ack"' not in acked and 'data-action="resolve"' in acked
    assert 'data-action="escalate"' not in acked  # no level is pending any more
    # Its level 2 was cancelled by the acknowledgement.
    assert "cancelled" in acked.split("<strong>Level 2</strong>")[1]
    resolved = await _page(running, "/ui/alerts/key-ui-2")  # by its dedup key too
    assert '<section data-live-alert="ui-2"' in resolved
    assert re.search(r"<strong>Resolved</strong> by anonymous-local", resolved)
    assert "data-action" not in resolved


async def test_a_long_timeline_shows_its_newest_entries_and_links_to_older_ones(
    running: Running,
) -> None:
    """A flapping alert: the page shows the newest 200 events (and the steps among them),
    then older pages by a link, each entry on one page; the API pages the same way."""
    await running.store.pool.execute(
        "INSERT INTO alert_events (alert_id, kind, detail, at) "
        "SELECT 'ui-3', 'occurrence', 'flap ' || n, now() + (n / 2) * interval '1 ms' "
        "FROM generate_series(0, 249) AS n"
    )
    html = await _page(running, "/ui/alerts/ui-3")
    flaps = [re.findall(r'<p class="detail">flap (\d+)</p>', html)]
    assert flaps[0] == [str(n) for n in range(50, 250)]
    assert "<strong>Level 2</strong>" in html  # due in an hour: newer than every event
    assert "<strong>Level 1</strong>" not in html and "<strong>Triggered</strong>" not in html
    older = re.search(r'<a href="([^"]+)" rel="next">Older entries</a>', html)
    assert older is not None and "timeline_before=" in older[1]
    html = await _page(running, htmllib.unescape(older[1]))
    flaps.append(re.findall(r'<p class="detail">flap (\d+)</p>', html))
    assert flaps[1] == [str(n) for n in range(50)]
    # The trigger and the level it fired are on the oldest page, in their order.
    assert html.index("<strong>Triggered</strong>") < html.index("<strong>Level 1</strong>")
    assert "<strong>Level 2</strong>" not in html and 'rel="next"' not in html
    assert '<a href="/ui/alerts/ui-3">Newest entries</a>' in html
    bad = await _page(running, "/ui/alerts/ui-3?timeline_before=nope", status=400)
    assert "timeline_before: not a timeline_older token" in bad
    # The API: the whole timeline by default, pages when asked, the same entries.
    whole = (await _json(running, "/api/v1/alerts/ui-3"))["timeline"]
    assert [e["detail"] for e in whole[-250:]] == [f"flap {n}" for n in range(250)]
    paged: list[Any] = []
    path: str | None = "/api/v1/alerts/ui-3?timeline_limit=100"
    while path is not None:
        shown = await _json(running, path)
        paged = shown["timeline"] + paged
        token = shown["timeline_older"]
        path = f"/api/v1/alerts/ui-3?timeline_limit=100&timeline_before={token}" if token else None
    assert paged == whole


async def test_alert_page_for_an_unknown_or_impossible_id(running: Running) -> None:
    missing = await _page(running, "/ui/alerts/no-such%3Calert%3E", status=404)
    assert "No alert has the id or dedup key" in missing
    assert "no-such&lt;alert&gt;" in missing.replace("&#39;", "'")
    bad = await _page(running, "/ui/alerts/two%20words", status=400)
    assert "Not an alert id" in bad


async def test_oncall_page_shows_now_and_next_per_schedule(running: Running) -> None:
    html = await _page(running, "/ui/oncall")
    [now_shift] = (await _json(running, "/api/v1/oncall"))["on_call"]
    assert "Primary &lt;on-call&gt;" in html and "@on-call-primary" in html
    row = html.split('data-schedule="primary"')[1].split("</tr>")[0]
    now_cell = row.split('class="now"')[1].split("</td>")[0]
    next_cell = row.split('class="next"')[1].split("</td>")[0]
    following = {"alice": "bob", "bob": "alice"}[now_shift["person"]]
    assert f"<strong>{now_shift['person']}</strong>" in now_cell
    assert f"<strong>{following}</strong>" in next_cell
    assert "layer daily" in now_cell
    # The next shift starts where this one ends.
    assert f'datetime="{now_shift["end"]}"' in now_cell and f'datetime="{now_shift["end"]}"' in (
        next_cell
    )


async def test_the_cli_lists_alerts_in_the_pages_order_with_level_and_next_escalation(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from notifierd.cli.main import _register, cli

    _register()
    monkeypatch.setenv("POSTGRES_URL", str(running.store.url))
    listed = await asyncio.to_thread(CliRunner().invoke, cli, ["alerts", "list"])
    assert listed.exit_code == 0, listed.output
    header, *rows = [line.split("\t") for line in listed.output.splitlines()]
    assert header[-2:] == ["level", "next escalation"]
    assert [r[0] for r in rows] == _rows(await _page(running, "/ui/alerts"))
    assert rows[0][-2] == "level 1" and rows[0][-1]  # triggered: level 2 is due
    assert rows[2][-2] == "level 1" and rows[2][-1] == ""  # acknowledged: nothing pending
