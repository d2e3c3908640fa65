"""The HTTP listener fails closed: loopback by default, no open API on the network unless
``--insecure-no-auth``, ``/metrics`` behind the token with ``--private-metrics``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from notifierd.daemon import Daemon, Options
from notifierd.http.exposure import ListenerRefused
from notifierd.http.listener import bound
from tests.integration.daemon_harness import ROUTES, Running, start_daemon, write_config
from tests.integration.redis_fixtures import RedisPrefix

TOKEN = "t0ken"


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFIERD_API_TOKEN", raising=False)


def local_url(running: Running) -> str:
    """The listener reached through loopback, whatever interface it was asked to bind."""
    port = bound(running.daemon.http)[0][1]
    return f"http://127.0.0.1:{port}"


async def statuses(base_url: str, *paths: str, **headers: str) -> dict[str, int]:
    async with aiohttp.ClientSession(base_url=base_url, headers=headers) as http:
        found = {}
        for path in paths:
            async with http.get(path) as resp:
                found[path] = resp.status
        return found


@pytest.mark.usefixtures("no_credentials")
async def test_a_port_alone_listens_on_loopback_only(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, http=":0"):
        assert [host for host, _ in bound(running.daemon.http)] == ["127.0.0.1"]


@pytest.mark.usefixtures("no_credentials")
async def test_loopback_without_credentials_is_open_and_says_so(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="notifierd.http"):
        async for running in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0"
        ):
            found = await statuses(running.http_url, "/api/v1/requests/nope", "/metrics")
            assert found == {"/api/v1/requests/nope": 404, "/metrics": 200}  # no 401: open
    said = [r for r in caplog.records if r.getMessage().startswith("the API is open")]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "local processes only" in said[0].getMessage()


@pytest.mark.usefixtures("no_credentials")
async def test_the_network_without_credentials_is_refused_before_connecting(
    tmp_path: Path,
) -> None:
    # Nothing listens on these URLs: the refusal comes first, so they are never tried.
    options = Options(
        config_dir=tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        postgres_url="postgresql://nobody@127.0.0.1:1/none",
        http="0.0.0.0:0",
    )
    with pytest.raises(ListenerRefused, match="without credentials: set NOTIFIERD_API_TOKEN"):
        await asyncio.wait_for(Daemon(options).start(), 5)


@pytest.mark.usefixtures("no_credentials")
async def test_insecure_no_auth_opens_the_network_loudly(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="notifierd.http"):
        async for running in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, http="0.0.0.0:0", insecure_no_auth=True
        ):
            assert [host for host, _ in bound(running.daemon.http)] == ["0.0.0.0"]
            found = await statuses(local_url(running), "/api/v1/requests/nope")
            assert found == {"/api/v1/requests/nope": 404}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("--insecure-no-auth: the API")
    assert "open to anyone who can reach" in warnings[0]


async def test_private_metrics_ask_for_the_token_and_probes_stay_open(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIERD_API_TOKEN", TOKEN)
    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, http="127.0.0.1:0", private_metrics=True
    ):
        anonymous = await statuses(running.http_url, "/metrics", "/healthz", "/readyz")
        assert anonymous == {"/metrics": 401, "/healthz": 200, "/readyz": 200}
        with_token = await statuses(running.http_url, "/metrics", Authorization=f"Bearer {TOKEN}")
        assert with_token == {"/metrics": 200}


@pytest.mark.usefixtures("no_credentials")
async def test_private_metrics_without_credentials_are_refused(tmp_path: Path) -> None:
    options = Options(
        config_dir=tmp_path,
        redis_url="redis://127.0.0.1:1/0",
        postgres_url="postgresql://nobody@127.0.0.1:1/none",
        http="127.0.0.1:0",
        private_metrics=True,
    )
    with pytest.raises(ListenerRefused, match="--private-metrics needs credentials"):
        await asyncio.wait_for(Daemon(options).start(), 5)


PRODUCER_WITH_TOKEN = """\
producers:
  ci:
    token: "${CI_TOKEN}"
"""


async def with_a_config_token(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
    http: str,
) -> AsyncIterator[Running]:
    """A daemon whose only credential is a producer's token in routes.yaml."""
    monkeypatch.setenv("CI_TOKEN", TOKEN)
    routes = ROUTES + PRODUCER_WITH_TOKEN
    async for running in start_daemon(
        tmp_path, pg_url, redis_prefix, monkeypatch, http=http, routes=routes
    ):
        yield running


@pytest.mark.usefixtures("no_credentials")
async def test_a_token_in_the_config_is_credentials_enough_for_the_network(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in with_a_config_token(
        tmp_path, pg_url, redis_prefix, monkeypatch, "0.0.0.0:0"
    ):
        assert [host for host, _ in bound(running.daemon.http)] == ["0.0.0.0"]
        anonymous = await statuses(local_url(running), "/api/v1/requests/nope")
        assert anonymous == {"/api/v1/requests/nope": 401}
        as_ci = await statuses(
            local_url(running), "/api/v1/requests/nope", Authorization=f"Bearer {TOKEN}"
        )
        assert as_ci == {"/api/v1/requests/nope": 404}


@pytest.mark.usefixtures("no_credentials")
async def test_a_reload_that_removes_every_credential_leaves_the_api_closed(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async for running in with_a_config_token(
        tmp_path, pg_url, redis_prefix, monkeypatch, "127.0.0.1:0"
    ):
        write_config(tmp_path / "config", ROUTES)  # the producer and its token are gone
        assert await running.daemon.reload("test")
        assert "ci" not in running.daemon.config().producers
        found = await statuses(running.http_url, "/api/v1/requests/nope", "/healthz")
        assert found == {"/api/v1/requests/nope": 401, "/healthz": 200}  # not open: closed
