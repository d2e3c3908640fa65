"""Secrets never leave the daemon: not in logs, Postgres, Redis or any CLI output, in any form.

Every channel type gets recognisable secrets (each contains ``PLANTED``), every provider
refuses and echoes back what it received (the Authorization header, the URL, the body, the
SMTP credentials as AUTH PLAIN/LOGIN base64), and then everything the daemon stored, logged or
printed is read back with every base64 run decoded at every offset and every percent-escape
undone: ``PLANTED`` must appear nowhere.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, unquote_plus

import asyncpg
import pytest
from click.testing import CliRunner

from notifierd.cli.main import _register, cli
from tests.fakes.echo_api import EchoingAPI
from tests.fakes.smtp_server import SMTPServer
from tests.integration.daemon_harness import Running, start_daemon
from tests.integration.redis_fixtures import RedisPrefix

MARK = "PLANTED"
SECRETS = {
    "SLACK_TOKEN": f"xoxb-{MARK}-slack-token-0001",
    "SMTP_PASS": f"{MARK}-smtp-p4ss/word+2",
    "SENDGRID_KEY": f"SG.{MARK}-sendgrid-key-0003",
    "HOOK_PASS": f"{MARK}-hook-basic-pass-4",
    "HOOK_TOKEN": f"{MARK}-hook-query-token-5",
    "HOOK_SECRET": f"{MARK}-hook-signing-secret-6",
    "PD_KEY": f"{MARK}0pagerduty0routing0key07",
    "TWILIO_SID": f"AC{MARK}0000000000000000000000008",
    "TWILIO_TOKEN": f"{MARK}-twilio-auth-token-9",
}

ROUTES = """\
settings:
  retry: {max_retries: 0}
channels:
  slack: {type: slack, token: "${SLACK_TOKEN}", api_url: "${ECHO}/api/", default_recipients: ["#ops"]}
  smtp:
    type: email
    host: 127.0.0.1
    port: ${SMTP_PORT}
    starttls: false
    username: mailer
    password: ${SMTP_PASS}
    from: notify@example.com
    default_recipients: [ops@example.com]
  sendgrid:
    type: email
    transport: sendgrid
    api_key: ${SENDGRID_KEY}
    api_url: ${ECHO}
    from: notify@example.com
    default_recipients: [ops@example.com]
  hook:
    type: webhook
    url: ${HOOK_URL}
    secret: ${HOOK_SECRET}
  teams: {type: teams, webhook_url: "${TEAMS_URL}"}
  pager: {type: pagerduty, routing_key: "${PD_KEY}", api_url: "${ECHO}/v2/enqueue"}
  sms:
    type: sms
    account_sid: ${TWILIO_SID}
    auth_token: ${TWILIO_TOKEN}
    from: "+14155550100"
    api_url: ${ECHO}
    default_recipients: ["+4915112345678"]
routes:
  - name: everywhere
    channels: [slack, smtp, sendgrid, hook, teams, pager, sms]
"""


@pytest.fixture
async def running(
    tmp_path: Path,
    pg_url: str,
    redis_prefix: RedisPrefix,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Running, EchoingAPI, SMTPServer]]:
    async with EchoingAPI() as echo, SMTPServer(username="mailer", password="other") as smtp:
        smtp.echo_refused_login = True
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ECHO", echo.url)
        monkeypatch.setenv(
            "HOOK_URL",
            f"http://hookuser:{SECRETS['HOOK_PASS']}@{echo.host}:{echo.port}/hook"
            f"?token={SECRETS['HOOK_TOKEN']}",
        )
        teams_path = f"/webhookb2/{MARK}-guid@tenant/IncomingWebhook/{MARK}0teams0path/owner"
        monkeypatch.setenv("TEAMS_URL", echo.url + teams_path)
        routes = ROUTES.replace("${SMTP_PORT}", str(smtp.port))
        async for r in start_daemon(tmp_path, pg_url, redis_prefix, monkeypatch, routes=routes):
            monkeypatch.setenv("REDIS_URL", redis_prefix.url)
            monkeypatch.setenv("POSTGRES_URL", pg_url)
            monkeypatch.setenv("NOTIFIERD_QUEUE", r.queue)
            yield r, echo, smtp


async def test_no_secret_reaches_logs_postgres_redis_or_the_cli_in_any_form(
    running: tuple[Running, EchoingAPI, SMTPServer],
    pg_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    r, echo, smtp = running
    caplog.set_level(logging.DEBUG, logger="notifierd")

    rid = await r.push({"title": "disk full", "message": "on db-1"})
    status = await r.status(rid, timeout=30)

    assert status["status"] == "failed"
    assert {d["channel"] for d in status["deliveries"]} == {
        "slack",
        "smtp",
        "sendgrid",
        "hook",
        "teams",
        "pager",
        "sms",
    }
    # Every provider really was sent the secrets and echoed them back.
    assert len({req.path for req in echo.requests}) == 6
    assert smtp.auth_attempts and set(smtp.auth_attempts) == {("mailer", False)}
    reasons = " ".join(str(d["error"]) for d in status["deliveries"])
    assert reasons.count("***") >= 7, reasons

    outputs = {
        "logs": "\n".join(record.getMessage() for record in caplog.records),
        "postgres": await postgres_text(pg_url),
        "redis": await redis_text(r.redis),
    }
    for args in (
        ["status", rid],
        ["status", rid, "--format", "json"],
        ["dlq", "list"],
        ["dlq", "list", "--format", "json"],
    ):
        _register()
        result = await asyncio.to_thread(CliRunner().invoke, cli, args)
        assert result.exit_code == 0, result.output
        outputs[" ".join(args)] = result.output

    assert rid in outputs["dlq list --format json"]
    leaks = {where: found for where, text in outputs.items() if (found := leaked(text))}
    assert leaks == {}


def leaked(text: str) -> list[str]:
    """The lines of ``text`` where a planted secret can be read, as written or decoded."""
    return [line for line in text.splitlines() if MARK in readable(line)]


def readable(text: str) -> str:
    """``text`` with percent-escapes undone, and the decoding of every base64 run in it at every
    offset: all a reader could recover."""
    found = [text, unquote(text), unquote_plus(text)]
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            chunk = run[start:].replace("-", "+").replace("_", "/")
            chunk = chunk[: len(chunk) // 4 * 4]
            with contextlib.suppress(ValueError):
                found.append(base64.b64decode(chunk).decode("latin-1"))
    return "\n".join(found)


async def postgres_text(pg_url: str) -> str:
    """Every row of every table of the test's database, as text."""
    conn = await asyncpg.connect(pg_url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        rows = []
        for table in tables:
            name = table["table_name"]
            rows += [
                f"{name}: {row[0]}" for row in await conn.fetch(f'SELECT t::text FROM "{name}" t')
            ]
        return "\n".join(rows)
    finally:
        await conn.close()


async def redis_text(prefix: RedisPrefix) -> str:
    """Every key under the test's prefix with its value, as text."""
    redis = prefix.redis
    lines = []
    async for key in redis.scan_iter(match=f"{prefix.prefix}*", count=500):
        kind = await redis.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        value: object
        if kind == "string":
            value = await redis.get(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            value = kind
        lines.append(f"{key!r}: {json.dumps(value, default=repr)}")
    return "\n".join(lines)
