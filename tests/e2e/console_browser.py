"""Headless Chromium for the console's browser tests: Debian's ``chromium`` driven by Playwright
(scripts/ensure-chromium installs it; Playwright's own browser download is never used).

A browser and a daemon start once per test module (each test opens its own browser context,
with its own cookies), which keeps the suite quick on a busy machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)

from notifierd.redisio.connect import connect_redis
from tests.integration.daemon_harness import ROUTES, Running, start_daemon
from tests.integration.pg_fixtures import create_database, drop_database
from tests.integration.redis_fixtures import REDIS_URL, RedisPrefix, delete_prefix

# Generous: the machine running the suite may be busy (2 cores shared by many builds).
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

DESKTOP: ViewportSize = {"width": 1280, "height": 800}


def chromium_path() -> str:
    """The system Chromium, or a clear failure naming the script that installs it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("no chromium on PATH: run scripts/ensure-chromium (as .ci/run does)")
    return found


@contextlib.asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"], timeout=TIMEOUT_MS * 3
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Browser]:
    """One headless Chromium for a test module (its tests run in the module's event loop:
    ``pytestmark = pytest.mark.asyncio(loop_scope="module")``)."""
    async with launch_chromium() as browser:
        yield browser


@dataclass
class Console:
    """A running daemon serving the console, and the database it records in."""

    daemon: Running
    postgres_url: str

    @property
    def url(self) -> str:
        return self.daemon.http_url


@contextlib.asynccontextmanager
async def console_daemon(
    root: Path,
    routes: str = ROUTES,
    env: dict[str, str] | None = None,
    config_dir: Path | None = None,
) -> AsyncIterator[Console]:
    """The test harness' daemon with its HTTP listener (and so the console) on a free port, in
    a database and Redis key prefix of its own; ``config_dir``: a config made elsewhere
    (``routes`` is then unused)."""
    name, pg_url = await create_database()
    redis = await connect_redis(REDIS_URL)
    prefix = RedisPrefix(redis=redis, prefix=f"test:{uuid.uuid4().hex}")
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            for key, value in (env or {}).items():
                monkeypatch.setenv(key, value)
            async for running in start_daemon(
                root,
                pg_url,
                prefix,
                monkeypatch,
                http="127.0.0.1:0",
                routes=routes,
                config_dir=config_dir,
            ):
                yield Console(running, pg_url)
    finally:
        await delete_prefix(redis, prefix.prefix)
        await redis.aclose()
        await drop_database(name)


class Tabs:
    """Pages for one test, each in a fresh browser context (its own cookies); closed when the
    test ends, so no page keeps a live-updates stream open on a daemon that is stopping."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    async def open(self, base_url: str) -> tuple[Page, list[str]]:
        """A page with every wait bounded by ``TIMEOUT_MS``, and the list its script errors go
        to (a test checks it stays empty)."""
        context = await self.browser.new_context(base_url=base_url, viewport=DESKTOP)
        self.contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page, errors

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def tabs(chromium: Browser) -> AsyncIterator[Tabs]:
    opened = Tabs(chromium)
    try:
        yield opened
    finally:
        await opened.close()


async def fetch_from_page(
    page: Page, method: str, url: str, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Call ``url`` from the page's own script context, as a script on the page could: the
    browser sends the session cookie; only the headers given here are added."""
    status, text = await page.evaluate(
        """async ([method, url, headers]) => {
            const r = await fetch(url, {method, headers, credentials: "same-origin",
                                        body: method === "GET" ? undefined : "{}"});
            return [r.status, await r.text()];
        }""",
        [method, url, {"Content-Type": "application/json", **(headers or {})}],
    )
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


async def cli(*args: str, postgres_url: str) -> tuple[int, str]:
    """``python -m notifierd ARGS`` as a separate process reading Postgres, as an operator would;
    asynchronous so an in-process daemon keeps running meanwhile."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "notifierd",
        *args,
        env={**os.environ, "POSTGRES_URL": postgres_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()
