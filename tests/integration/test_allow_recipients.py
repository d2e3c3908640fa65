"""Who may send where, through the running daemon: a request naming an e-mail address the
config neither knows nor allows is rejected with the reason and sends nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.smtp_server import SMTPServer
from tests.integration.daemon_harness import start_daemon
from tests.integration.redis_fixtures import RedisPrefix

ROUTES = """\
channels:
  mail:
    type: email
    host: 127.0.0.1
    port: ${SMTP_PORT}
    starttls: false
    from: notifier@company.com
    default_recipients: [ops@company.com]
    allow_recipients: ["*@company.com"]
routes:
  - name: default
    channels: [mail]
"""


async def test_a_forbidden_recipient_rejects_the_request_and_sends_nothing(
    tmp_path: Path, pg_url: str, redis_prefix: RedisPrefix, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SMTPServer() as smtp:
        routes = ROUTES.replace("${SMTP_PORT}", str(smtp.port))
        async for running in start_daemon(
            tmp_path, pg_url, redis_prefix, monkeypatch, routes=routes
        ):
            refused = await running.push({"recipients": ["dev@company.com", "x@evil.com"]})
            assert refused is not None
            status = await running.status(refused, until=("rejected",))
            assert status["reason"] == (
                "recipient 'x@evil.com' is not allowed on channel 'mail': not a known "
                "recipient and allow_recipients has no pattern for it"
            )
            assert status["deliveries"] == []

            allowed = await running.push({"recipients": ["dev@company.com"]})
            assert allowed is not None
            status = await running.status(allowed)
            assert status["status"] == "delivered"
            assert [(d["channel"], d["recipient"]) for d in status["deliveries"]] == [
                ("mail", "dev@company.com")
            ]
            # Only the allowed request reached the mail server, and only its recipient.
            assert [m.rcpt_tos for m in smtp.messages] == [["dev@company.com"]]
