"""E-mail senders: aiosmtplib against a real aiosmtpd server; sendgrid against a local v3 API.

The test SMTP server speaks plain SMTP on loopback, so the channels here set
``starttls: false``; production channels keep the default ``starttls: true``.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from notifierd.channels import Delivered, Failed, create_sender
from notifierd.channels.email import SendGridSender, SMTPSender
from tests.fakes import FakeSendGrid, SMTPServer, make_channel, make_outbound, unused_port
from tests.fakes.sendgrid_api import DEFAULT_KEY

NOW = 1_700_000_000.0
HTML = "<html><body><h1>Deployed</h1><p>v2.1.0</p></body></html>"
PDF = base64.b64encode(b"%PDF-1.4 fake report").decode()
ATTACHMENTS = {
    "attachments": [
        {"filename": "report.pdf", "content_type": "application/pdf", "content": PDF},
        {"filename": "runbook", "url": "https://wiki.example.com/runbook"},
    ]
}


def smtp_channel(port: int, **settings: object):
    base = {
        "transport": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,  # the test server has no TLS
        "from": "Notifier <notify@example.com>",
        "timeout": "2s",
    }
    return make_channel("ops-email", "email", **{**base, **settings})


@pytest.fixture
async def smtp() -> AsyncIterator[SMTPServer]:
    async with SMTPServer() as server:
        yield server


async def send_smtp(channel, recipient: str = "ops@example.com", env=None, **kwargs):
    sender = create_sender(channel, env or {})
    try:
        return await sender.send(make_outbound(channel, recipient, **kwargs))
    finally:
        await sender.close()


# --------------------------------------------------------------------------- SMTP


async def test_smtp_sends_text_html_cc_bcc_and_attachments(smtp: SMTPServer) -> None:
    channel = smtp_channel(
        smtp.port,
        cc=["lead@example.com"],
        bcc=["audit@example.com"],
        reply_to="oncall@example.com",
    )

    result = await send_smtp(channel, html=HTML, request=ATTACHMENTS)

    assert isinstance(result, Delivered)
    [mail] = smtp.messages
    assert mail.mail_from == "notify@example.com"
    assert sorted(mail.rcpt_tos) == ["audit@example.com", "lead@example.com", "ops@example.com"]
    message = mail.message
    assert message["Subject"] == "Deployment Complete: production"
    assert message["To"] == "ops@example.com"
    assert message["Cc"] == "lead@example.com"
    assert message["Bcc"] is None  # bcc is envelope only
    assert message["Reply-To"] == "oncall@example.com"
    assert message["X-Notifierd-Delivery"] == "dlv-1"
    assert result.provider_id == message["Message-ID"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and "Deployed by: Alice" in text.get_content()
    assert "runbook: https://wiki.example.com/runbook" in text.get_content()
    assert html is not None and "<h1>Deployed</h1>" in html.get_content()
    assert message.get_content_type() == "multipart/mixed"
    assert any(p.get_content_type() == "multipart/alternative" for p in message.iter_parts())
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == b"%PDF-1.4 fake report"


async def test_smtp_text_only_when_there_is_no_html(smtp: SMTPServer) -> None:
    result = await send_smtp(smtp_channel(smtp.port))

    assert isinstance(result, Delivered)
    message = smtp.messages[0].message
    assert message.get_content_type() == "text/plain"


async def test_smtp_unknown_user_is_permanent(smtp: SMTPServer) -> None:
    smtp.reject("ghost@example.com")

    result = await send_smtp(smtp_channel(smtp.port), "ghost@example.com")

    assert isinstance(result, Failed)
    assert not result.transient
    assert result.status_code == 550
    assert "ghost@example.com" in result.reason


async def test_smtp_temporary_failure_is_transient(smtp: SMTPServer) -> None:
    smtp.fail_next(reply="451 4.3.0 Mail server temporarily rejected message")

    result = await send_smtp(smtp_channel(smtp.port))

    assert isinstance(result, Failed)
    assert result.transient
    assert result.status_code == 451
    assert smtp.messages == []


async def test_smtp_refused_cc_still_delivers_to_the_recipient(smtp: SMTPServer) -> None:
    smtp.reject("gone@example.com")

    result = await send_smtp(smtp_channel(smtp.port, cc=["gone@example.com"]))

    assert isinstance(result, Delivered)
    assert "gone@example.com" in result.detail["refused"]
    assert smtp.messages[0].rcpt_tos == ["ops@example.com"]


async def test_smtp_connection_refused_is_transient() -> None:
    result = await send_smtp(smtp_channel(unused_port()))

    assert isinstance(result, Failed)
    assert result.transient


async def test_smtp_slow_server_times_out_transiently(smtp: SMTPServer) -> None:
    smtp.slow(3)

    result = await send_smtp(smtp_channel(smtp.port, timeout="300ms"))

    assert isinstance(result, Failed)
    assert result.transient
    assert "timed out" in result.reason


async def test_smtp_invalid_address_is_permanent_without_connecting(smtp: SMTPServer) -> None:
    result = await send_smtp(smtp_channel(smtp.port), "not-an-address")

    assert isinstance(result, Failed)
    assert not result.transient
    assert "not-an-address" in result.reason


async def test_smtp_starttls_against_a_plain_server_is_permanent(smtp: SMTPServer) -> None:
    result = await send_smtp(smtp_channel(smtp.port, starttls=True))

    assert isinstance(result, Failed)
    assert not result.transient
    assert "starttls: false" in result.reason


async def test_smtp_auth() -> None:
    env = {"SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "s3cret-pass"}
    async with SMTPServer(username="mailer", password="s3cret-pass") as server:
        channel = smtp_channel(
            server.port, username="${SMTP_USERNAME}", password="${SMTP_PASSWORD}"
        )
        ok = await send_smtp(channel, env=env)
        wrong = await send_smtp(channel, env={**env, "SMTP_PASSWORD": "wrong-pass-123"})
        anonymous = await send_smtp(smtp_channel(server.port))
        missing = await send_smtp(channel, env={"SMTP_USERNAME": "mailer"})

    assert isinstance(ok, Delivered)
    assert server.messages[0].login == "mailer"
    assert isinstance(wrong, Failed)
    assert not wrong.transient and wrong.status_code == 535
    assert "${SMTP_PASSWORD}" in wrong.reason
    assert "wrong-pass-123" not in wrong.reason
    assert isinstance(anonymous, Failed)
    assert not anonymous.transient and anonymous.status_code == 530  # authentication required
    assert isinstance(missing, Failed) and not missing.transient
    assert "SMTP_PASSWORD" in missing.reason
    assert len(server.messages) == 1


# --------------------------------------------------------------------------- SendGrid


@pytest.fixture
async def sendgrid() -> AsyncIterator[FakeSendGrid]:
    async with FakeSendGrid() as fake:
        yield fake


def sendgrid_channel(api_url: str, **settings: object):
    base = {
        "transport": "sendgrid",
        "api_key": "${SENDGRID_API_KEY}",
        "api_url": api_url,
        "from": "Notifier <notify@example.com>",
        "timeout": "2s",
    }
    return make_channel("ops-email", "email", **{**base, **settings})


async def send_sendgrid(
    channel, key: str = DEFAULT_KEY, recipient: str = "ops@example.com", **kwargs
):
    sender = create_sender(channel, {"SENDGRID_API_KEY": key}, clock=lambda: NOW)
    try:
        return await sender.send(make_outbound(channel, recipient, **kwargs))
    finally:
        await sender.close()


async def test_sendgrid_accepts_and_returns_the_message_id(sendgrid: FakeSendGrid) -> None:
    channel = sendgrid_channel(
        sendgrid.url,
        cc=["lead@example.com"],
        bcc=["audit@example.com"],
        reply_to="oncall@example.com",
    )

    result = await send_sendgrid(channel, html=HTML, request=ATTACHMENTS)

    assert isinstance(result, Delivered)
    [mail] = sendgrid.mails
    assert result.provider_id == mail["_message_id"]
    [personalization] = mail["personalizations"]
    assert personalization["to"] == [{"email": "ops@example.com"}]
    assert personalization["cc"] == [{"email": "lead@example.com"}]
    assert personalization["bcc"] == [{"email": "audit@example.com"}]
    assert mail["from"] == {"email": "notify@example.com", "name": "Notifier"}
    assert mail["reply_to"] == {"email": "oncall@example.com"}
    assert mail["subject"] == "Deployment Complete: production"
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    assert "https://wiki.example.com/runbook" in mail["content"][0]["value"]
    assert mail["attachments"] == [
        {
            "content": PDF,
            "filename": "report.pdf",
            "type": "application/pdf",
            "disposition": "attachment",
        }
    ]
    assert mail["custom_args"] == {"delivery_id": "dlv-1", "request_id": "req-1"}
    [call] = sendgrid.requests
    assert call.path == "/v3/mail/send"
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_KEY}"


async def test_sendgrid_bad_key_is_permanent_with_sendgrids_message(sendgrid: FakeSendGrid) -> None:
    result = await send_sendgrid(sendgrid_channel(sendgrid.url), key="SG.revoked-secret")

    assert isinstance(result, Failed)
    assert not result.transient
    assert result.status_code == 401
    assert "authorization grant is invalid" in result.reason
    assert "${SENDGRID_API_KEY}" in result.reason
    assert "SG.revoked-secret" not in result.reason


async def test_sendgrid_forbidden_key_is_permanent() -> None:
    async with FakeSendGrid(forbidden_keys=["SG.read-only"]) as fake:
        result = await send_sendgrid(sendgrid_channel(fake.url), key="SG.read-only")

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 403


async def test_sendgrid_field_error_is_permanent(sendgrid: FakeSendGrid) -> None:
    # An empty attachment is a body SendGrid refuses field by field.
    request = {"attachments": [{"filename": "empty.txt", "content": ""}]}

    result = await send_sendgrid(sendgrid_channel(sendgrid.url), request=request)

    assert isinstance(result, Failed)
    assert not result.transient
    assert result.status_code == 400
    assert "attachments.0.content: The attachment content is required." in result.reason
    assert sendgrid.mails == []


async def test_sendgrid_payload_too_large_is_permanent() -> None:
    async with FakeSendGrid(max_bytes=200) as fake:
        result = await send_sendgrid(sendgrid_channel(fake.url), request=ATTACHMENTS)

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 413


async def test_sendgrid_rate_limit_is_transient_until_the_reset(sendgrid: FakeSendGrid) -> None:
    sendgrid.rate_limit_next(reset_at=NOW + 7)

    result = await send_sendgrid(sendgrid_channel(sendgrid.url))

    assert isinstance(result, Failed)
    assert result.transient
    assert result.status_code == 429
    assert result.retry_after == 7.0


@pytest.mark.parametrize("status", [500, 503])
async def test_sendgrid_server_error_is_transient(sendgrid: FakeSendGrid, status: int) -> None:
    sendgrid.fail_next(
        status=status, json={"errors": [{"message": "internal error", "field": None}]}
    )

    result = await send_sendgrid(sendgrid_channel(sendgrid.url))

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == status


async def test_sendgrid_timeout_is_transient(sendgrid: FakeSendGrid) -> None:
    sendgrid.slow_next(delay=3)

    result = await send_sendgrid(sendgrid_channel(sendgrid.url, timeout="300ms"))

    assert isinstance(result, Failed)
    assert result.transient
    assert "timed out" in result.reason


async def test_sendgrid_unreachable_is_transient() -> None:
    result = await send_sendgrid(sendgrid_channel(f"http://127.0.0.1:{unused_port()}"))

    assert isinstance(result, Failed) and result.transient


async def test_sendgrid_missing_key_variable_is_permanent(sendgrid: FakeSendGrid) -> None:
    channel = sendgrid_channel(sendgrid.url)
    sender = create_sender(channel, {})

    result = await sender.send(make_outbound(channel, "ops@example.com"))

    assert isinstance(result, Failed) and not result.transient
    assert "SENDGRID_API_KEY" in result.reason
    assert sendgrid.requests == []


async def test_transport_picks_the_sender() -> None:
    smtp = create_sender(smtp_channel(25), {})
    sendgrid = create_sender(
        sendgrid_channel("https://api.sendgrid.com"), {"SENDGRID_API_KEY": "SG.x"}
    )

    assert isinstance(smtp, SMTPSender)
    assert isinstance(sendgrid, SendGridSender)
