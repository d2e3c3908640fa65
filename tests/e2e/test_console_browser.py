"""The console in a real browser (headless Chromium) against a running daemon: an alert a
producer queues appears without a reload, the buttons act through the API (and the CLI sees
it), a delivery is found and its request opened, a dead letter is retried and its outcome shown;
with credentials: sign-in, a viewer refused an action, CSRF refusals, sign-out."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Locator, Page, expect

from tests.e2e.console_browser import Console, Tabs, cli, console_daemon, fetch_from_page
from tests.integration.daemon_harness import ROUTES, Running

PEOPLE = """\
people:
  alice: {token: "${ALICE_TOKEN}", roles: [view, operate], contacts: [{email: alice@company.com}]}
  victor: {token: "${VICTOR_TOKEN}", roles: [view], contacts: [{email: victor@company.com}]}
"""
ALICE, VICTOR = "alice-browser-token", "victor-browser-token"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def console(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    """A daemon with no credentials (loopback): the console is open, as ``anonymous-local``."""
    async with console_daemon(tmp_path_factory.mktemp("open")) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def guarded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Console]:
    """A daemon whose people sign in: alice may operate, victor may only view."""
    people = {"ALICE_TOKEN": ALICE, "VICTOR_TOKEN": VICTOR}
    async with console_daemon(tmp_path_factory.mktemp("guarded"), ROUTES + PEOPLE, people) as c:
        yield c


async def trigger(running: Running, key: str, title: str) -> None:
    """A producer queues an alert; returns once the daemon has recorded it."""
    rid = await running.push(
        {
            "kind": "alert",
            "action": "trigger",
            "dedup_key": key,
            "title": title,
            "severity": "critical",
        }
    )
    assert rid is not None
    await running.status(rid)


async def acknowledge_elsewhere(console: Console, alert_id: str) -> None:
    """Through the API, as another person, worker or CLI would: the page learns it live."""
    async with (
        aiohttp.ClientSession(console.url) as http,
        http.post(f"/api/v1/alerts/{alert_id}/ack") as resp,
    ):
        assert resp.status == 200, await resp.text()


def alert_row(page: Page, title: str) -> Locator:
    return page.locator('table[data-live="alerts"] tbody tr', has_text=title)


async def open_on_new_alert(
    console: Console, tabs: Tabs, key: str, title: str
) -> tuple[Page, list[str], Locator, str]:
    """A producer triggers an alert; a fresh page opens the alerts list: the page, its script
    errors, the alert's row and its id."""
    await trigger(console.daemon, key, title)
    page, errors = await tabs.open(console.url)
    await page.goto("/ui/alerts")
    row = alert_row(page, title)
    alert_id = await row.get_attribute("data-alert-id")
    assert alert_id
    return page, errors, row, alert_id


async def shown_by_cli(pg_url: str, alert_id: str) -> dict[str, Any]:
    """``notifierd alerts show ID --format json``, run as its own process."""
    code, out = await cli("alerts", "show", alert_id, "--format", "json", postgres_url=pg_url)
    assert code == 0, out
    found: dict[str, Any] = json.loads(out)
    return found


async def sign_in(page: Page, token: str) -> None:
    """Open the alerts page, get sent to the sign-in form, sign in, land back on alerts."""
    await page.goto("/ui/alerts")
    await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=(/|%2F)ui(/|%2F)alerts$"))
    await page.fill("input[name=token]", token)
    await page.click("form[action='/ui/sign-in'] button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/ui/alerts$"))


# -- no credentials (loopback) ---------------------------------------------------------------


async def test_an_alert_a_producer_queues_appears_without_reload(
    console: Console, tabs: Tabs
) -> None:
    """Live updates (/ui/events + live.js): the new row arrives and a change made elsewhere
    (the API, as another worker or a CLI would) updates it, in the same page."""
    page, errors = await tabs.open(console.url)
    await page.goto("/ui/alerts")
    await expect(page.locator("table[data-live=alerts]")).to_be_visible()
    await page.evaluate("window.stayedOnThisPage = true")

    await trigger(console.daemon, "browser-live", "Queue <backlog> growing")
    row = alert_row(page, "Queue <backlog> growing")
    await expect(row).to_have_attribute("data-status", "triggered")
    alert_id = await row.get_attribute("data-alert-id")
    assert alert_id

    await acknowledge_elsewhere(console, alert_id)
    await expect(row).to_have_attribute("data-status", "acknowledged")
    assert await page.evaluate("window.stayedOnThisPage === true"), "the page was reloaded"
    assert errors == []


async def test_acknowledge_button_is_seen_by_the_cli(console: Console, tabs: Tabs) -> None:
    page, errors, row, alert_id = await open_on_new_alert(
        console, tabs, "browser-ack", "Disk full on db-1"
    )

    await row.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#flash")).to_contain_text(f"Alert {alert_id} acknowledged")
    await expect(page.locator("#flash")).not_to_have_class(re.compile(r"\berror\b"))

    shown = await shown_by_cli(console.postgres_url, alert_id)
    assert shown["status"] == "acknowledged", shown
    assert any(e["actor"] == "anonymous-local" for e in shown["timeline"]), shown["timeline"]
    assert errors == []


async def test_an_alert_is_resolved_with_the_keyboard_alone(console: Console, tabs: Tabs) -> None:
    """Tab reaches a row's Resolve button (after the skip link and the navigation) and Enter
    presses it."""
    await trigger(console.daemon, "browser-keys", "Token rotation failed")
    page, errors = await tabs.open(console.url)
    await page.goto("/ui/alerts")
    row = alert_row(page, "Token rotation failed")
    resolve = row.get_by_role("button", name="Resolve")
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await resolve.evaluate("button => button === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the row's Resolve button")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text("resolved")
    await expect(row).to_have_attribute("data-status", "resolved")  # its live update
    assert errors == []


async def test_a_live_update_keeps_the_keyboard_focus_on_its_row(
    console: Console, tabs: Tabs
) -> None:
    """A row replaced by a live update while the keyboard sits on its Resolve button (someone
    acknowledged it elsewhere) keeps the focus on the new row's Resolve: Enter still resolves."""
    page, errors, row, alert_id = await open_on_new_alert(
        console, tabs, "browser-focus", "Replica lag above 30s"
    )
    resolve = row.get_by_role("button", name="Resolve")
    await resolve.focus()
    replaced = await row.evaluate_handle("row => row")

    await acknowledge_elsewhere(console, alert_id)
    await expect(row).to_have_attribute("data-status", "acknowledged")
    assert not await replaced.evaluate("row => row.isConnected"), "the row was not replaced"
    assert await resolve.evaluate("button => button === document.activeElement")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(f"Alert {alert_id} resolved")
    await expect(row).to_have_attribute("data-status", "resolved")
    assert errors == []


async def test_an_alert_page_refreshed_live_keeps_the_keyboard_focus(
    console: Console, tabs: Tabs
) -> None:
    """The same on an alert's own page, whose section is re-fetched when the alert changes."""
    title = "Cache hit rate below 80%"
    page, errors, _, alert_id = await open_on_new_alert(console, tabs, "browser-focus-page", title)
    await page.goto(f"/ui/alerts/{alert_id}")
    section = page.locator(f'section[data-live-alert="{alert_id}"]')
    resolve = section.get_by_role("button", name="Resolve")
    await resolve.focus()

    await acknowledge_elsewhere(console, alert_id)
    await expect(section.locator(".facts .badge")).to_have_text("acknowledged")
    assert await resolve.evaluate("button => button === document.activeElement")
    await page.keyboard.press("Enter")
    await expect(page.locator("#flash")).to_contain_text(f"Alert {alert_id} resolved")
    await expect(section.locator(".facts .badge")).to_have_text("resolved")
    assert errors == []


async def test_delivery_search_opens_the_request_page(console: Console, tabs: Tabs) -> None:
    """/ui/deliveries' form (request_id, title, channel, recipient, status, since, until) finds
    a delivery; its link opens /ui/requests/{id} with the delivery's history."""
    for n, title in enumerate(["Backup finished", "Certificate expires soon"]):
        await console.daemon.push({"id": f"search-{n}", "title": title})
        await console.daemon.status(f"search-{n}")
    page, errors = await tabs.open(console.url)
    await page.goto("/ui/deliveries")
    await page.fill("input[name=title]", "expires soon")
    await page.select_option("select[name=status]", "delivered")
    await page.get_by_role("button", name="Search").click()
    await expect(page).to_have_url(re.compile(r"title=expires\+soon"))
    results = page.locator("#deliveries tbody tr")
    await expect(results).to_have_count(1)
    await expect(results).to_contain_text("sink")

    await results.get_by_role("link", name="search-1").click()
    await expect(page).to_have_url(re.compile(r"/ui/requests/search-1$"))
    await expect(page.locator("main")).to_contain_text("Certificate expires soon")
    await expect(page.locator("main")).to_contain_text("delivered")
    assert errors == []


async def test_dead_letter_retry_shows_its_outcome(console: Console, tabs: Tabs) -> None:
    console.daemon.flaky.status = 404  # refused for good: dead at the first attempt
    rid = await console.daemon.push({"title": "Nightly report", "labels": {"target": "flaky"}})
    assert rid is not None
    await console.daemon.status(rid)
    page, errors = await tabs.open(console.url)
    await page.goto("/ui/dead-letters")
    row = page.locator(f'#dead-letters tr[data-request="{rid}"]')
    await expect(row.locator(".outcome")).to_have_text("dead")
    await expect(page.locator("#retry-selected")).to_be_disabled()

    console.daemon.flaky.status = 200  # the receiver is fixed; retry what died
    await row.locator("input[name=id]").check()
    await page.click("#retry-selected")
    await expect(page.locator("#flash")).to_contain_text("Requeued 1 deliveries")
    await expect(row.locator(".outcome")).to_have_text("delivered")
    assert len(console.daemon.flaky.received) == 2  # the dead attempt and the retried one
    assert errors == []


# -- with credentials: each person signs in ---------------------------------------------------


async def test_sign_in_act_and_sign_out(guarded: Console, tabs: Tabs) -> None:
    await trigger(guarded.daemon, "browser-signin", "Payments API 5xx")
    page, errors = await tabs.open(guarded.url)
    await page.goto("/ui/sign-in")
    await page.fill("input[name=token]", "not-a-token")
    await page.click("form[action='/ui/sign-in'] button[type=submit]")
    await expect(page.locator("main")).to_contain_text("That token is not known")

    await sign_in(page, ALICE)
    await expect(page.locator("header .who")).to_have_text("person:alice")
    row = alert_row(page, "Payments API 5xx")
    alert_id = await row.get_attribute("data-alert-id")
    assert alert_id
    await row.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#flash")).to_contain_text("acknowledged")
    shown = await shown_by_cli(guarded.postgres_url, alert_id)
    assert shown["status"] == "acknowledged"
    assert any(e["actor"] == "person:alice" and e["via"] == "console" for e in shown["timeline"]), (
        shown["timeline"]
    )

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    await page.goto("/ui/alerts")  # the session is over: back to the form
    await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    assert errors == []


async def test_a_viewer_sees_alerts_but_may_not_act(guarded: Console, tabs: Tabs) -> None:
    await trigger(guarded.daemon, "browser-viewer", "Replica lag")
    page, errors = await tabs.open(guarded.url)
    await sign_in(page, VICTOR)
    row = alert_row(page, "Replica lag")
    await expect(row).to_have_attribute("data-status", "triggered")

    await row.get_by_role("button", name="Acknowledge").click()
    flash = page.locator("#flash")
    await expect(flash).to_contain_text("403")
    await expect(flash).to_contain_text("operate")
    await expect(flash).to_have_class(re.compile(r"\berror\b"))
    alert_id = await row.get_attribute("data-alert-id")
    status, alert = await fetch_from_page(page, "GET", f"/api/v1/alerts/{alert_id}")
    assert status == 200 and alert["status"] == "triggered", alert
    assert errors == []


async def test_missing_or_forged_csrf_token_is_refused(guarded: Console, tabs: Tabs) -> None:
    """The session cookie alone does not act: an action without the page's CSRF token, or with
    another, is refused; the page's own token works."""
    await trigger(guarded.daemon, "browser-csrf", "Cache cold")
    page, errors = await tabs.open(guarded.url)
    await sign_in(page, ALICE)
    alert_id = await alert_row(page, "Cache cold").get_attribute("data-alert-id")
    ack = f"/api/v1/alerts/{alert_id}/ack"
    refused = {"error": "missing or wrong CSRF token"}

    assert await fetch_from_page(page, "POST", ack) == (403, refused)
    assert await fetch_from_page(page, "POST", ack, {"X-CSRF-Token": "forged"}) == (403, refused)
    # The context's own request client sends the cookie too, and no token.
    resp = await page.request.post(ack, data={})
    assert resp.status == 403 and await resp.json() == refused
    status, alert = await fetch_from_page(page, "GET", f"/api/v1/alerts/{alert_id}")
    assert status == 200 and alert["status"] == "triggered", alert

    token = await page.get_attribute('meta[name="csrf-token"]', "content")
    assert token
    status, done = await fetch_from_page(page, "POST", ack, {"X-CSRF-Token": token})
    assert status == 200, done
    assert errors == []
