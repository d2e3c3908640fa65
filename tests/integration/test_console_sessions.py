"""Signing in to the console on a real daemon: the session cookie and its flags, where a sign-in
may lead, expiry, sign-out, CSRF on actions the cookie authenticates, roles, a person removed
by a reload, guessing limits, a second replica, and the audit log of it all."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from notifierd.http.session import COOKIE
from notifierd.store.audit import Action, AuditEntry, AuditLog, AuditSearch, Outcome
from notifierd.store.db import Store
from notifierd.store.sessions import SessionStore
from tests.integration.daemon_harness import ROUTES, Running, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

PEOPLE = """\
producers:
  ci: {token: "${CI_TOKEN}"}
people:
  alice: {token: "${ALICE_TOKEN}", roles: [view, operate], contacts: [{email: alice@company.com}]}
  victor: {token: "${VICTOR_TOKEN}", roles: [view], contacts: [{email: victor@company.com}]}
"""
TOKENS = {"CI_TOKEN": "ci-token", "ALICE_TOKEN": "alice-token", "VICTOR_TOKEN": "victor-token"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def start_with_people(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    **options: Any,
) -> AsyncIterator[Running]:
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    async for r in start_daemon(
        tmp_path,
        pg_url,
        redis_prefix,
        monkeypatch,
        http="127.0.0.1:0",
        routes=ROUTES + PEOPLE,
        **options,
    ):
        await r.push({"id": "db-1", "kind": "alert", "action": "trigger", "dedup_key": "db"})
        await r.status("db-1")
        yield r


@pytest.fixture
async def running(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    async for r in start_with_people(tmp_path, pg_url, redis_prefix, monkeypatch):
        yield r


def browser(running: Running) -> aiohttp.ClientSession:
    """A client that keeps cookies, as a browser does (for an IP address host too)."""
    return aiohttp.ClientSession(running.http_url, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(
    http: aiohttp.ClientSession, token: str, next_page: str = "/ui/alerts", **headers: str
) -> aiohttp.ClientResponse:
    async with http.post(
        "/ui/sign-in",
        data={"token": token, "next": next_page},
        allow_redirects=False,
        headers=headers,
    ) as resp:
        await resp.read()
        return resp


async def csrf_token(http: aiohttp.ClientSession) -> str:
    async with http.get("/ui/alerts", allow_redirects=False) as resp:
        assert resp.status == 200
        found = CSRF_META.search(await resp.text())
    assert found and found.group(1)
    return found.group(1)


def session_cookie(resp: aiohttp.ClientResponse) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in resp.headers.getall("Set-Cookie", []):
        jar.load(header)
    return jar


async def audit_rows(running: Running, action: Action) -> list[AuditEntry]:
    return list(reversed(await AuditLog(running.store.pool).search(AuditSearch(action=action))))


async def test_a_page_without_a_session_leads_to_sign_in_and_back(running: Running) -> None:
    async with browser(running) as http:
        async with http.get("/ui/alerts?state=open", allow_redirects=False) as resp:
            assert resp.status == 303
            assert resp.headers["Location"] == "/ui/sign-in?next=/ui/alerts%3Fstate%3Dopen"
        async with http.get(resp.headers["Location"]) as form:
            assert form.status == 200
            html = await form.text()
            assert 'name="token"' in html and 'value="/ui/alerts?state=open"' in html
            assert "default-src 'self'" in form.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in form.headers["Content-Security-Policy"]
            assert form.headers["X-Frame-Options"] == "DENY"
            assert form.headers["Referrer-Policy"] == "same-origin"
            assert form.headers["X-Content-Type-Options"] == "nosniff"
            assert "<script>" not in html and "onclick" not in html  # no inline script
        signed = await sign_in(http, "alice-token", "/ui/alerts?state=open")
        assert signed.status == 303 and signed.headers["Location"] == "/ui/alerts?state=open"
        cookie = session_cookie(signed)[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
        assert cookie["max-age"] == str(12 * 3600)
        assert not cookie["secure"]  # plain http; see the https test
        assert len(cookie.value) > 43  # 256 random bits and their MAC
        async with http.get("/ui/alerts", allow_redirects=False) as page:
            assert page.status == 200
            html = await page.text()
        assert "person:alice" in html and 'action="/ui/sign-out"' in html
        # The API reads with the same cookie: the console's fetch calls.
        async with http.get("/api/v1/alerts") as api:
            assert api.status == 200
    (done,) = await audit_rows(running, Action.SIGN_IN)
    assert (done.actor, done.outcome, done.via, done.origin) == (
        "person:alice",
        Outcome.DONE,
        "console",
        "127.0.0.1",
    )
    stored = await running.store.pool.fetchrow("SELECT * FROM console_sessions")
    assert stored["principal"] == "person:alice"
    assert cookie.value.split(".")[0].encode() not in bytes(stored["id_hash"])  # only a hash


async def test_the_cookie_is_secure_behind_an_https_proxy(running: Running) -> None:
    async with browser(running) as http:
        signed = await sign_in(http, "alice-token", **{"X-Forwarded-Proto": "https"})
    assert signed.status == 303 and session_cookie(signed)[COOKIE]["secure"]


async def test_a_wrong_or_a_producers_token_does_not_sign_in(running: Running) -> None:
    async with browser(running) as http:
        for token, words in (
            ("guess", "That token is not known"),
            ("ci-token", "a producer&#39;s token"),
        ):
            async with http.post(
                "/ui/sign-in", data={"token": token}, allow_redirects=False
            ) as resp:
                assert resp.status == 401
                assert words in await resp.text()
                assert COOKIE not in session_cookie(resp)
        async with http.get("/ui/alerts", allow_redirects=False) as resp:
            assert resp.status == 303
    failed = await audit_rows(running, Action.SIGN_IN)
    assert [(e.actor, e.outcome, e.origin) for e in failed] == [
        ("unknown", Outcome.FAILED, "127.0.0.1"),
        ("producer:ci", Outcome.FAILED, "127.0.0.1"),
    ]


async def test_sign_in_leads_only_to_a_console_page_of_this_site(running: Running) -> None:
    async with browser(running) as http:
        for target in (
            "https://evil.example/ui/alerts",
            "//evil.example/ui/alerts",
            "/\\evil.example",
            "/ui/../api/v1/alerts",
            "/api/v1/alerts",
            "javascript:alert(1)",
            "/ui/sign-in",
            "",
        ):
            signed = await sign_in(http, "alice-token", target)
            assert signed.headers["Location"] == "/ui/alerts", target
        signed = await sign_in(http, "alice-token", "/ui/alerts?state=open")
        assert signed.headers["Location"] == "/ui/alerts?state=open"


async def test_a_form_posted_from_another_site_does_not_sign_in(running: Running) -> None:
    async with browser(running) as http:
        signed = await sign_in(http, "alice-token", Origin="https://evil.example")
    assert signed.status == 403 and COOKIE not in session_cookie(signed)


async def test_actions_by_cookie_need_the_csrf_token_bearer_calls_do_not(
    running: Running,
) -> None:
    async with browser(running) as http:
        await sign_in(http, "alice-token")
        token = await csrf_token(http)
        # The real token with its last hex digit changed (appending "0" kept it 1 time in 16).
        tampered = token[:-1] + ("1" if token.endswith("0") else "0")
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": tampered}):
            async with http.post("/api/v1/alerts/db/ack", json={}, headers=headers) as resp:
                assert resp.status == 403
                assert await resp.json() == {"error": "missing or wrong CSRF token"}
        async with http.post(
            "/api/v1/alerts/db/ack", json={}, headers={"X-CSRF-Token": token}
        ) as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["status"] == "acknowledged"
    async with (
        aiohttp.ClientSession(running.http_url) as api,
        api.post(
            "/api/v1/alerts/db/resolve", headers={"Authorization": "Bearer alice-token"}
        ) as resp,
    ):
        assert resp.status == 200
    rows = await AuditLog(running.store.pool).search(AuditSearch(actor="person:alice"))
    assert [(e.action, e.via) for e in reversed(rows)] == [
        (Action.SIGN_IN, "console"),
        (Action.ACKNOWLEDGE, "console"),
        (Action.RESOLVE, "http"),
    ]


async def test_a_viewer_reads_pages_but_may_not_act(running: Running) -> None:
    async with browser(running) as http:
        await sign_in(http, "victor-token")
        token = await csrf_token(http)
        async with http.post(
            "/api/v1/alerts/db/ack", json={}, headers={"X-CSRF-Token": token}
        ) as resp:
            assert resp.status == 403
            assert (await resp.json())["needs"] == "operate or produce"


async def test_sign_out_ends_the_session_for_a_copied_cookie_too(running: Running) -> None:
    async with browser(running) as http:
        signed = await sign_in(http, "alice-token")
        old = session_cookie(signed)[COOKIE].value
        token = await csrf_token(http)
        async with http.post("/ui/sign-out", data={}, allow_redirects=False) as resp:
            assert resp.status == 403  # no CSRF token: not signed out
        async with http.post(
            "/ui/sign-out", data={"csrf_token": token}, allow_redirects=False
        ) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/ui/sign-in"
            assert session_cookie(resp)[COOKIE].value == ""
    async with aiohttp.ClientSession(running.http_url, cookies={COOKIE: old}) as replay:
        async with replay.get("/ui/alerts", allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"].startswith("/ui/sign-in")
        async with replay.get("/api/v1/alerts") as resp:
            assert resp.status == 401
    (out,) = await audit_rows(running, Action.SIGN_OUT)
    assert (out.actor, out.via, out.origin) == ("person:alice", "console", "127.0.0.1")
    assert await running.store.pool.fetchval("SELECT count(*) FROM console_sessions") == 0


async def test_a_forged_cookie_is_refused(running: Running) -> None:
    async with browser(running) as http:
        signed = await sign_in(http, "alice-token")
        sid, _, mac = session_cookie(signed)[COOKIE].value.partition(".")
    forged = f"{sid}.{'A' * len(mac)}"
    async with (
        aiohttp.ClientSession(running.http_url, cookies={COOKIE: forged}) as other,
        other.get("/ui/alerts", allow_redirects=False) as resp,
    ):
        assert resp.status == 303


async def test_a_person_removed_by_a_reload_is_signed_out(running: Running) -> None:
    async with browser(running) as http:
        await sign_in(http, "victor-token")
        await csrf_token(http)  # signed in
        routes = running.config / "routes.yaml"
        routes.write_text(
            routes.read_text().replace(
                '  victor: {token: "${VICTOR_TOKEN}", roles: [view], contacts: '
                "[{email: victor@company.com}]}\n",
                "",
            )
        )
        assert await running.daemon.reload("test")
        async with http.get("/ui/alerts", allow_redirects=False) as resp:
            assert resp.status == 303


async def test_a_changed_token_ends_the_session(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with browser(running) as http:
        await sign_in(http, "alice-token")
        await csrf_token(http)
        monkeypatch.setenv("ALICE_TOKEN", "alice-new-token")
        routes = running.config / "routes.yaml"
        routes.write_text(routes.read_text() + "\n# a new token\n")
        assert await running.daemon.reload("test")
        async with http.get("/ui/alerts", allow_redirects=False) as resp:
            assert resp.status == 303


async def test_an_address_that_keeps_guessing_is_refused(running: Running) -> None:
    audit = AuditLog(running.store.pool)
    for _ in range(10):  # failures recorded by any replica count
        await audit.record(
            AuditEntry(
                "unknown", Action.SIGN_IN, "console", origin="127.0.0.1", outcome=Outcome.FAILED
            )
        )
    async with browser(running) as http:
        signed = await sign_in(http, "alice-token")  # even the right token, for a while
    assert signed.status == 429 and int(signed.headers["Retry-After"]) > 0
    assert COOKIE not in session_cookie(signed)


async def test_a_session_expires(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_with_people(
        tmp_path, pg_url, redis_prefix, monkeypatch, console_session_seconds=2.0
    ):
        async with browser(running) as http:
            signed = await sign_in(http, "alice-token")
            assert session_cookie(signed)[COOKIE]["max-age"] == "2"
            await csrf_token(http)
            await asyncio.sleep(2.5)
            kept = session_cookie(signed)[COOKIE].value  # kept past its Max-Age
            async with (
                aiohttp.ClientSession(running.http_url, cookies={COOKIE: kept}) as late,
                late.get("/ui/alerts", allow_redirects=False) as resp,
            ):
                assert resp.status == 303


async def test_a_session_works_on_every_replica_and_sign_out_ends_it_on_each(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(tmp_path / "config", ROUTES + PEOPLE)
    async for a in start_with_people(tmp_path, pg_url, redis_prefix, monkeypatch, config_dir=cfg):
        async for b in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", config_dir=cfg
        ):
            async with browser(a) as on_a:
                signed = await sign_in(on_a, "alice-token")
                cookie = session_cookie(signed)[COOKIE].value
                token = await csrf_token(on_a)
                async with aiohttp.ClientSession(b.http_url, cookies={COOKIE: cookie}) as on_b:
                    async with on_b.get("/ui/alerts", allow_redirects=False) as resp:
                        assert resp.status == 200  # B shares the key and the session
                    async with on_b.post(
                        "/api/v1/alerts/db/ack", json={}, headers={"X-CSRF-Token": token}
                    ) as resp:
                        assert resp.status == 200  # and the CSRF token
                    async with on_a.post(
                        "/ui/sign-out", data={"csrf_token": token}, allow_redirects=False
                    ) as resp:
                        assert resp.status == 303
                    # B trusts what it read for at most 5 s (the session cache).
                    deadline = asyncio.get_running_loop().time() + 15
                    while True:
                        async with on_b.get("/ui/alerts", allow_redirects=False) as resp:
                            if resp.status == 303:
                                break
                        assert asyncio.get_running_loop().time() < deadline
                        await asyncio.sleep(0.25)


async def test_an_open_listener_needs_no_sign_in(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFIERD_API_TOKEN", raising=False)
    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0"
    ):
        async with browser(running) as http:
            async with http.get("/ui/sign-in", allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"] == "/ui/alerts"
            async with http.get("/ui/alerts", allow_redirects=False) as resp:
                assert resp.status == 200
                assert "anonymous-local" in await resp.text()


async def test_processes_starting_together_agree_on_one_cookie_key(pg_url: str) -> None:
    stores = [await Store.connect(pg_url, min_size=1, max_size=1) for _ in range(6)]
    try:
        keys = await asyncio.gather(*(SessionStore(s.pool).key() for s in stores))
    finally:
        for store in stores:
            await store.close()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
