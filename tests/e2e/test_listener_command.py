"""``notifierd run`` refuses an open API on the network, as the image's command line runs it
(Docker is not here: the Dockerfile's ENTRYPOINT is run as written) and under ``--workers``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.conftest import ROOT
from tests.e2e.test_crash_recovery import wait_until
from tests.fakes import unused_port
from tests.integration.redis_fixtures import RedisPrefix

REFUSAL = "refusing to serve the API on 0.0.0.0:{port} without credentials"


def compose_service() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["notifierd"]


def image_command(port: int) -> list[str]:
    """The Dockerfile's ENTRYPOINT with compose's arguments (``--dry-run``), this checkout's
    ``notifierd``, the shipped config for ``/config`` and a free port (tests run side by side)."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    [entrypoint] = [
        line.removeprefix("ENTRYPOINT ") for line in lines if line.startswith("ENTRYPOINT ")
    ]
    program, *args = json.loads(entrypoint)
    assert program == "notifierd"
    assert args[args.index("--http") + 1] == "0.0.0.0:9464"
    args[args.index("--http") + 1] = f"0.0.0.0:{port}"
    args = [str(ROOT / "config") if arg == "/config" else arg for arg in args]
    return [str(Path(sys.executable).parent / "notifierd"), *args, *compose_service()["command"]]


def compose_token() -> str:
    """The token compose gives the image when NOTIFIERD_API_TOKEN is not set."""
    found = re.fullmatch(
        r"\$\{NOTIFIERD_API_TOKEN:-(.+)\}", compose_service()["environment"]["NOTIFIERD_API_TOKEN"]
    )
    assert found, "compose gives the image a token, or a default for a local try-out"
    return found[1]


def environment(pg_url: str, redis_prefix: RedisPrefix, **extra: str) -> dict[str, str]:
    """The image's ENV, the test's Redis and Postgres, its own queue and keys; no token."""
    env = {k: v for k, v in os.environ.items() if k != "NOTIFIERD_API_TOKEN"}
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
        "NOTIFIERD_LOG_FORMAT": "json",
        "REDIS_URL": redis_prefix.url,
        "POSTGRES_URL": pg_url,
        "NOTIFIERD_QUEUE": f"{redis_prefix.prefix}:requests",
        "NOTIFIERD_KEY_PREFIX": redis_prefix.prefix,
        **extra,
    }


async def assert_refused(
    args: list[str], env: dict[str, str], port: int, redis: RedisPrefix
) -> None:
    started = time.monotonic()
    # Its own session: a daemon that wrongly starts is killed with every worker it forked.
    process = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError("the daemon started instead of refusing") from None
    assert process.returncode == 2, stderr
    assert time.monotonic() - started < 10  # refused at once, not after waiting for anything
    [line] = stderr.decode().splitlines()
    assert line.startswith("error: " + REFUSAL.format(port=port)), line
    assert "NOTIFIERD_API_TOKEN" in line and "--insecure-no-auth" in line
    assert not await redis.redis.keys(f"{redis.prefix}:*")  # no consumer ever registered


async def get(port: int, path: str) -> int | None:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}{path}") as resp,
        ):
            return resp.status
    except aiohttp.ClientError:
        return None


async def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    for _ in range(200):
        if process.poll() is not None:
            return
        await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("the daemon did not stop within 20 s of SIGTERM")


async def test_the_image_command_refuses_without_a_token_and_serves_with_one(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix
) -> None:
    # compose's placeholder token is public: it may only be published on the host's loopback.
    assert all(published.startswith("127.0.0.1:") for published in compose_service()["ports"])
    port = unused_port()
    args = image_command(port)
    await assert_refused(args, environment(pg_url, redis_prefix), port, redis_prefix)
    assert await get(port, "/healthz") is None  # nothing listens

    log = tmp_path / "daemon.log"
    with open(log, "wb") as out:
        env = environment(pg_url, redis_prefix, NOTIFIERD_API_TOKEN=compose_token())
        daemon = subprocess.Popen(args, env=env, stdout=out, stderr=out)
    try:

        async def healthy() -> bool:
            return await get(port, "/healthz") == 200

        await wait_until(healthy, 60, f"/healthz of the image's command; log: {log}")
        assert await get(port, "/api/v1/requests/x") == 401
    finally:
        await stop(daemon)


async def test_workers_refuse_before_any_starts_and_pass_the_flag_on(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix
) -> None:
    port = unused_port()
    args = [sys.executable, "-m", "notifierd", "run", "--config", str(ROOT / "config")]
    args += ["--dry-run", "--no-watch", "--workers", "2", "--http", f"0.0.0.0:{port}"]
    env = environment(pg_url, redis_prefix)
    await assert_refused(args, env, port, redis_prefix)

    # With the loud flag the parent starts, and so does worker 0, which serves the listener:
    # it would refuse (and the supervisor stop) had the flag not reached it.
    log = tmp_path / "daemon.log"
    with open(log, "wb") as out:
        daemon = subprocess.Popen([*args, "--insecure-no-auth"], env=env, stdout=out, stderr=out)
    try:

        async def serving() -> bool:
            return await get(port, "/api/v1/requests/x") == 404

        await wait_until(serving, 60, f"worker 0's open API; log: {log}")
        assert daemon.poll() is None
    finally:
        await stop(daemon)
    assert "--insecure-no-auth: the API" in log.read_text()
