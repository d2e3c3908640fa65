"""Slack sender: the real slack_sdk client against a local server speaking the Web API."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from email.utils import formatdate

import aiohttp
import pytest

from notifierd.channels import Delivered, Failed, create_sender
from notifierd.channels.base import MessageUpdater
from notifierd.channels.slack import SlackSender
from tests.fakes import FakeSlackAPI, make_channel, make_outbound, unused_port
from tests.fakes.slack_api import DEFAULT_TOKEN

ENV = {"SLACK_BOT_TOKEN": DEFAULT_TOKEN}
NOW = 1_700_000_000.0


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI(not_member=["C0GENERAL"]) as fake:
        yield fake


def channel_for(api_url: str, **settings: object):
    settings = {"token": "${SLACK_BOT_TOKEN}", "api_url": api_url, "timeout": "2s", **settings}
    return make_channel("ops-slack", "slack", **settings)


@pytest.fixture
async def sender(slack: FakeSlackAPI) -> AsyncIterator[SlackSender]:
    sender = create_sender(channel_for(slack.url), ENV, clock=lambda: NOW)
    assert isinstance(sender, SlackSender)
    yield sender
    await sender.close()


async def test_posts_blocks_with_a_text_fallback(slack: FakeSlackAPI, sender: SlackSender) -> None:
    out = make_outbound(sender.channel, "#ops")

    result = await sender.send(out)

    assert isinstance(result, Delivered)
    [posted] = slack.messages
    assert result.provider_id == f"C0OPS|{posted['ts']}"
    assert result.detail["channel"] == "C0OPS"
    assert posted["blocks"] == out.message.slack_blocks
    assert posted["blocks"][0]["type"] == "header"
    assert posted["text"] == "Deployment Complete: production\nVersion: v2.1.0\nDeployed by: Alice"
    assert posted["metadata"]["event_payload"] == {"delivery_id": "dlv-1", "request_id": "req-1"}
    # The SDK sends JSON with the token in the header, as Slack requires.
    [call] = slack.requests
    assert call.headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert call.headers["Content-Type"].startswith("application/json")


async def test_template_blocks_thread_and_identity(slack: FakeSlackAPI) -> None:
    channel = channel_for(slack.url, username="notifierd", icon_emoji=":rotating_light:")
    sender = create_sender(channel, ENV)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*custom* layout"}}]
    try:
        result = await sender.send(
            make_outbound(
                channel,
                "C0INCIDENTS",
                reply_to="C0INCIDENTS|1699999999.000100",
                slack_blocks=blocks,
            )
        )
    finally:
        await sender.close()

    assert isinstance(result, Delivered)
    [posted] = slack.messages
    assert posted["blocks"] == blocks
    assert posted["thread_ts"] == "1699999999.000100"
    assert posted["username"] == "notifierd"
    assert posted["icon_emoji"] == ":rotating_light:"


async def test_user_id_gets_a_direct_message(slack: FakeSlackAPI, sender: SlackSender) -> None:
    result = await sender.send(make_outbound(sender.channel, "@U0ALICE"))

    assert isinstance(result, Delivered)
    assert slack.posted()[0]["channel"] == "U0ALICE"
    assert result.detail["channel"] == "D0ALICE"


async def test_display_name_is_channel_not_found_with_a_hint(sender: SlackSender) -> None:
    result = await sender.send(make_outbound(sender.channel, "@alice"))

    assert isinstance(result, Failed)
    assert not result.transient
    assert "channel_not_found" in result.reason
    assert "user's ID" in result.reason


async def test_bad_token_is_permanent_and_names_the_variable(slack: FakeSlackAPI) -> None:
    channel = channel_for(slack.url)
    sender = create_sender(channel, {"SLACK_BOT_TOKEN": "xoxb-wrong-secret-value"})
    try:
        result = await sender.send(make_outbound(channel, "#ops"))
    finally:
        await sender.close()

    assert isinstance(result, Failed)
    assert not result.transient
    assert "invalid_auth" in result.reason
    assert "${SLACK_BOT_TOKEN}" in result.reason
    assert "xoxb-wrong-secret-value" not in result.reason


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "not_authed"])
async def test_every_token_error_is_permanent(
    slack: FakeSlackAPI, sender: SlackSender, error: str
) -> None:
    slack.fail_next_with(error)

    result = await sender.send(make_outbound(sender.channel, "#ops"))

    assert isinstance(result, Failed) and not result.transient
    assert error in result.reason


@pytest.mark.parametrize(
    ("recipient", "error"),
    [("#no-such-channel", "channel_not_found"), ("#general", "not_in_channel")],
)
async def test_unusable_channel_is_permanent(
    sender: SlackSender, recipient: str, error: str
) -> None:
    result = await sender.send(make_outbound(sender.channel, recipient))

    assert isinstance(result, Failed)
    assert not result.transient
    assert error in result.reason


async def test_rate_limit_is_transient_with_retry_after(
    slack: FakeSlackAPI, sender: SlackSender
) -> None:
    slack.rate_limit_next(retry_after=7)

    result = await sender.send(make_outbound(sender.channel, "#ops"))

    assert result == Failed(result.reason, transient=True, retry_after=7.0, status_code=429)
    assert "ratelimited" in result.reason
    assert len(slack.requests) == 1  # the SDK's own retry handlers are off: our stage retries


async def test_retry_after_as_an_http_date(slack: FakeSlackAPI, sender: SlackSender) -> None:
    slack.rate_limit_next(retry_after=formatdate(NOW + 30, usegmt=True))

    result = await sender.send(make_outbound(sender.channel, "#ops"))

    assert isinstance(result, Failed) and result.transient
    assert result.retry_after == pytest.approx(30.0)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    slack: FakeSlackAPI, sender: SlackSender, status: int
) -> None:
    slack.fail_next(
        status=status, text="<html>upstream error</html>", headers={"Content-Type": "text/html"}
    )

    result = await sender.send(make_outbound(sender.channel, "#ops"))

    assert isinstance(result, Failed)
    assert result.transient
    assert result.status_code == status


async def test_slack_internal_error_is_transient(slack: FakeSlackAPI, sender: SlackSender) -> None:
    slack.fail_next_with("internal_error")

    result = await sender.send(make_outbound(sender.channel, "#ops"))

    assert isinstance(result, Failed) and result.transient


async def test_timeout_is_transient(slack: FakeSlackAPI) -> None:
    channel = channel_for(slack.url, timeout="300ms")
    sender = create_sender(channel, ENV)
    slack.slow_next(delay=3)
    try:
        result = await sender.send(make_outbound(channel, "#ops"))
    finally:
        await sender.close()

    assert isinstance(result, Failed)
    assert result.transient
    assert "timed out" in result.reason


async def test_connection_refused_is_transient() -> None:
    channel = channel_for(f"http://127.0.0.1:{unused_port()}/api/")
    sender = create_sender(channel, ENV)
    try:
        result = await sender.send(make_outbound(channel, "#ops"))
    finally:
        await sender.close()

    assert isinstance(result, Failed) and result.transient


async def test_missing_token_variable_is_permanent(slack: FakeSlackAPI) -> None:
    channel = channel_for(slack.url)
    sender = create_sender(channel, {})

    result = await sender.send(make_outbound(channel, "#ops"))

    assert isinstance(result, Failed)
    assert not result.transient
    assert "SLACK_BOT_TOKEN" in result.reason
    assert slack.requests == []


async def test_attachments_upload_into_the_thread_and_links_are_listed(
    slack: FakeSlackAPI, sender: SlackSender
) -> None:
    request = {
        "attachments": [
            {
                "filename": "report.txt",
                "content_type": "text/plain",
                "content": base64.b64encode(b"all good").decode(),
            },
            {"filename": "dashboard", "url": "https://grafana.example.com/d/1"},
        ]
    }

    result = await sender.send(make_outbound(sender.channel, "#ops", request=request))

    assert isinstance(result, Delivered)
    assert "attachment_error" not in result.detail
    [posted] = slack.messages
    assert "<https://grafana.example.com/d/1|dashboard>" in posted["text"]
    assert "grafana.example.com" in posted["blocks"][-1]["text"]["text"]
    [file] = slack.files
    assert file["name"] == "report.txt"
    assert file["content"] == b"all good"
    assert file["channel"] == "C0OPS"
    assert file["thread_ts"] == posted["ts"]


async def test_failed_upload_keeps_the_message_delivered(
    slack: FakeSlackAPI, sender: SlackSender
) -> None:
    slack.fail_next_with("missing_scope", path="/api/files.getUploadURLExternal")
    request = {"attachments": [{"filename": "a.bin", "content": base64.b64encode(b"x").decode()}]}

    result = await sender.send(make_outbound(sender.channel, "#ops", request=request))

    assert isinstance(result, Delivered)  # retrying would post the message twice
    assert "missing_scope" in result.detail["attachment_error"]


async def test_invalid_base64_attachment_is_permanent(sender: SlackSender) -> None:
    request = {"attachments": [{"filename": "a.bin", "content": "not base64!"}]}

    result = await sender.send(make_outbound(sender.channel, "#ops", request=request))

    assert isinstance(result, Failed) and not result.transient
    assert "a.bin" in result.reason


async def test_update_settles_a_posted_message_in_place(
    slack: FakeSlackAPI, sender: SlackSender
) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "Checkout down"}}
    buttons = {"type": "actions", "elements": [{"type": "button", "action_id": "notifierd_ack"}]}
    out = make_outbound(sender.channel, "#ops", slack_blocks=[section, buttons])
    posted = await sender.send(out)
    assert isinstance(posted, Delivered) and posted.provider_id

    assert isinstance(sender, MessageUpdater)
    result = await sender.update(posted.provider_id, out.message, "Acknowledged by alice")

    assert isinstance(result, Delivered)
    [message] = slack.messages
    assert message["text"] == f"{out.message.subject} — Acknowledged by alice"
    assert message["blocks"] == [
        section,
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": ":white_check_mark: Acknowledged by alice"}],
        },
    ]
    missing = await sender.update("C0OPS|1.000000", out.message, "x")
    assert isinstance(missing, Failed) and not missing.transient
    assert "message_not_found" in missing.reason
    not_a_message = await sender.update("1.000000", out.message, "x")
    assert isinstance(not_a_message, Failed) and not not_a_message.transient


async def test_a_reply_to_a_reference_it_cannot_read_starts_no_thread(
    slack: FakeSlackAPI, sender: SlackSender
) -> None:
    result = await sender.send(make_outbound(sender.channel, "#ops", reply_to="not-a-ref"))

    assert isinstance(result, Delivered)
    [posted] = slack.messages
    assert "thread_ts" not in posted


async def test_shared_session_is_used_and_left_open(slack: FakeSlackAPI) -> None:
    channel = channel_for(slack.url)
    async with aiohttp.ClientSession() as http:
        sender = create_sender(channel, ENV, http=http)
        assert isinstance(await sender.send(make_outbound(channel, "#ops")), Delivered)
        await sender.close()
        assert not http.closed


async def test_fake_accepts_form_encoded_calls_like_slack(slack: FakeSlackAPI) -> None:
    form = {
        "token": DEFAULT_TOKEN,
        "channel": "#ops",
        "text": "hi",
        "blocks": '[{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]',
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.url + "chat.postMessage", data=form) as response:
            ok = await response.json()
        async with http.post(
            slack.url + "chat.postMessage", data={**form, "blocks": "{oops"}
        ) as response:
            bad = await response.json()

    assert ok["ok"] is True and ok["channel"] == "C0OPS"
    assert bad == {"ok": False, "error": "invalid_blocks_format"}
