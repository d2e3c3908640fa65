"""Run the daemon in-process against real Redis and Postgres, with webhook sinks as channels."""

from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifierd.daemon import Daemon, Options
from notifierd.principals import Principal, Role
from notifierd.store.db import Store
from tests.fakes.clock import SkippingClock
from tests.fakes.webhook_sink import WebhookSink
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
settings:
  dedup_window: 1h
  retry: {max_retries: 3, initial_delay: 50ms, multiplier: 2, max_delay: 2s, jitter: 0}
channels:
  sink: {type: webhook, url: "${SINK_URL}", secret: "${SINK_SECRET}"}
  flaky: {type: webhook, url: "${FLAKY_URL}"}
  limited: {type: webhook, url: "${SINK_URL}"}
rate_limits:
  - {channel: limited, limit: 5, window: 1s}
routes:
  - name: flaky
    matchers: ['target="flaky"']
    channels: [flaky]
  - name: limited
    matchers: ['target="limited"']
    channels: [limited]
  - name: default
    channels: [sink]
suppressions:
  - name: db-maintenance
    matchers: ['service="db"']
    start: 2020-01-01T00:00:00Z
    end: 2099-01-01T00:00:00Z
"""

# The default queue is the anonymous producer, which closes no alert unless the config grants
# it: tests of queue order (a trigger, then its resolve) grant it its own alerts.
QUEUE_CLOSES_ITS_OWN = "producers:\n  anonymous:\n    may_act_on: {producers: [anonymous]}\n"


def operator(name: str) -> Principal:
    """A person with the operate role, as the HTTP API or Slack would authenticate them."""
    return Principal(f"person:{name}", frozenset({Role.OPERATE}))


def write_config(root: Path, routes: str = ROUTES, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "routes.yaml").write_text(textwrap.dedent(routes))
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@dataclass
class Running:
    daemon: Daemon
    redis: RedisPrefix
    store: Store
    sink: WebhookSink
    flaky: WebhookSink
    config: Path
    clock: SkippingClock | None = None  # given to start_daemon: the test moves it

    @property
    def queue(self) -> str:
        return self.daemon.services.keys.queue

    @property
    def http_url(self) -> str:
        """The daemon's HTTP listener (started with ``http=``), e.g. ``http://127.0.0.1:41234``."""
        from notifierd.http.listener import bound

        host, port = bound(self.daemon.http)[0]
        return f"http://{host}:{port}"

    async def push(self, request: dict[str, Any] | bytes | str) -> str | None:
        if isinstance(request, dict):
            request = {"title": "t", "message": "m", **request}
            request.setdefault("id", str(uuid.uuid4()))
            await self.redis.redis.lpush(self.queue, json.dumps(request))
            return str(request["id"])
        await self.redis.redis.lpush(self.queue, request)
        return None

    async def status(
        self,
        request_id: str,
        *,
        until: tuple[str, ...] = (
            "delivered",
            "partial",
            "failed",
            "suppressed",
            "deduplicated",
            "unrouted",
            "dry_run",
            "error",
        ),
        timeout: float = 15.0,
    ) -> dict[str, Any]:
        """Poll Postgres until the request reaches one of ``until``."""
        deadline = asyncio.get_running_loop().time() + timeout
        found = None
        while asyncio.get_running_loop().time() < deadline:
            found = await self.store.request_status(request_id)
            if found is not None and found["status"] in until:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"request {request_id} did not reach {until} in {timeout}s: {found}")

    async def idle(self, timeout: float = 15.0) -> None:
        """Wait until the queue and this consumer's processing list are empty."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if (
                await self.daemon.services.consumer.queue_depth() == 0
                and await self.daemon.services.consumer.processing_depth() == 0
            ):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the daemon did not drain its queue")


async def start_daemon(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    *,
    routes: str = ROUTES,
    dry_run: bool = False,
    watch: bool = False,
    http: str | None = None,
    insecure_no_auth: bool = False,
    private_metrics: bool = False,
    files: dict[str, str] | None = None,
    sink: WebhookSink | None = None,
    flaky: WebhookSink | None = None,
    config_dir: Path | None = None,
    escalation_poll: float = 1.0,
    clock: SkippingClock | None = None,
    **more_options: Any,
) -> AsyncIterator[Running]:
    """``clock``: the daemon's clock, also deciding what Postgres finds due; by default the wall
    clock and Postgres' now(), as in production. ``more_options``: other Options fields."""
    own = sink is None  # a test may share its sinks between daemons (restarts, replicas)
    sink, flaky = sink or WebhookSink(), flaky or WebhookSink()
    if own:
        await sink.start()
        await flaky.start()
    monkeypatch.setenv("SINK_URL", sink.url)
    monkeypatch.setenv("SINK_SECRET", "s3cret")
    monkeypatch.setenv("FLAKY_URL", flaky.url)
    config = config_dir or write_config(tmp_path / "config", routes, files)
    options = Options(
        config_dir=config,
        redis_url=redis_prefix.url,
        postgres_url=pg_url,
        key_prefix=redis_prefix.prefix,
        queue=f"{redis_prefix.prefix}:requests",
        dry_run=dry_run,
        watch=watch,
        shutdown_timeout=5.0,
        http=http,  # "127.0.0.1:0": any free port, read back with Running.http_url
        insecure_no_auth=insecure_no_auth,
        private_metrics=private_metrics,
        escalation_poll=escalation_poll,
        **more_options,
    )
    daemon = Daemon(options) if clock is None else Daemon(options, clock, due_clock=clock)
    try:
        await daemon.start()
    except BaseException:  # a daemon that cannot start must not leave its sinks listening
        if own:
            await sink.stop()
            await flaky.stop()
        raise
    store = await Store.connect(pg_url, min_size=1, max_size=2, apply_migrations=False)
    try:
        yield Running(daemon, redis_prefix, store, sink, flaky, config, clock)
    finally:
        daemon.request_stop()
        await daemon.stop()
        await store.close()
        if own:
            await sink.stop()
            await flaky.stop()


@asynccontextmanager
async def daemon_running(*args: Any, **kwargs: Any) -> AsyncIterator[Running]:
    """start_daemon as a context manager: a failing assertion still stops the daemon (and its
    pools) before the test's database is dropped."""
    gen = start_daemon(*args, **kwargs)
    try:
        yield await gen.__anext__()
    finally:
        await gen.aclose()
