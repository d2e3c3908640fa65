"""SMS sender: the twilio library against a local Messages API, failures classified."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from notifierd.channels import Delivered, Failed, create_sender
from notifierd.templates.message import SMS_MAX
from tests.fakes import make_channel, make_outbound, unused_port
from tests.fakes.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_NUMBERS,
    DEFAULT_SERVICES,
    FakeTwilio,
)

TO = "+4915112345678"
ENV = {"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN}


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(unsubscribed={"+14155550199"}) as fake:
        yield fake


def sms(url: str, **settings: object):
    return make_channel(
        "oncall-sms",
        "sms",
        **{
            "account_sid": "${TWILIO_ACCOUNT_SID}",
            "auth_token": "${TWILIO_AUTH_TOKEN}",
            "from": DEFAULT_NUMBERS[0],
            "api_url": url,
            "timeout": "2s",
            **settings,
        },
    )


async def send(channel, recipient: str | None = TO, env=ENV, **kwargs) -> Delivered | Failed:
    sender = create_sender(channel, env)
    try:
        return await sender.send(make_outbound(channel, recipient, **kwargs))
    finally:
        await sender.close()


async def test_delivered_with_the_message_sid(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url))

    assert isinstance(result, Delivered)
    [message] = twilio.messages
    assert result.provider_id == message["sid"]
    assert message["sid"].startswith("SM")
    assert message["to"] == TO
    assert message["from"] == DEFAULT_NUMBERS[0]
    assert message["body"] == "Deployment Complete: production\nVersion: v2.1.0\nDeployed by: Alice"
    assert result.detail["status"] == "queued"
    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.form() == {
        "To": TO,
        "From": DEFAULT_NUMBERS[0],
        "Body": message["body"],
    }


async def test_messaging_service_instead_of_a_from_number(twilio: FakeTwilio) -> None:
    channel = sms(twilio.url, messaging_service_sid=DEFAULT_SERVICES[0])
    channel = make_channel(
        channel.name, "sms", **{k: v for k, v in channel.settings.items() if k != "from"}
    )

    result = await send(channel)

    assert isinstance(result, Delivered)
    assert twilio.requests[0].form()["MessagingServiceSid"] == DEFAULT_SERVICES[0]
    assert "From" not in twilio.requests[0].form()


async def test_long_text_is_cut_to_1600_characters(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url), text="word " * 1000)

    assert isinstance(result, Delivered)
    body = twilio.messages[0]["body"]
    assert len(body) == SMS_MAX
    assert body.startswith("Deployment Complete: production\nword word")
    assert body.endswith("…")


@pytest.mark.parametrize("recipient", ["015112345678", "+0123456", "+49 151 1234", "ops@x.com"])
async def test_non_e164_recipient_is_refused_without_a_call(
    twilio: FakeTwilio, recipient: str
) -> None:
    result = await send(sms(twilio.url), recipient=recipient)

    assert isinstance(result, Failed) and not result.transient
    assert "E.164" in result.reason
    assert twilio.requests == []


async def test_no_recipient_is_permanent(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url), recipient=None)

    assert isinstance(result, Failed) and not result.transient
    assert twilio.requests == []


async def test_number_twilio_refuses_is_permanent(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url), recipient="+12345")  # E.164-shaped, but too short

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 400
    assert "21211" in result.reason
    assert "is not a valid phone number" in result.reason


async def test_unsubscribed_recipient_is_permanent(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url), recipient="+14155550199")

    assert isinstance(result, Failed) and not result.transient
    assert "21610" in result.reason and "unsubscribed" in result.reason


async def test_from_number_the_account_does_not_own_is_permanent(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url, **{"from": "+15559999999"}))

    assert isinstance(result, Failed) and not result.transient
    assert "21606" in result.reason


async def test_bad_credentials_are_permanent_and_never_echoed(twilio: FakeTwilio) -> None:
    env = {**ENV, "TWILIO_AUTH_TOKEN": "wrong-token-0123456789"}

    result = await send(sms(twilio.url), env=env)

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 401
    assert "20003" in result.reason
    assert "${TWILIO_AUTH_TOKEN}" in result.reason
    assert "wrong-token-0123456789" not in result.reason
    assert DEFAULT_ACCOUNT_SID not in result.reason


async def test_rate_limit_is_transient(twilio: FakeTwilio) -> None:
    twilio.rate_limit_next(retry_after=4)

    result = await send(sms(twilio.url))

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == 429
    assert result.retry_after == 4.0
    assert "20429" in result.reason
    assert twilio.messages == []


async def test_server_error_is_transient(twilio: FakeTwilio) -> None:
    twilio.fail_next(status=503, json={"code": 20503, "message": "Service unavailable"})

    result = await send(sms(twilio.url))

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == 503


async def test_timeout_is_transient(twilio: FakeTwilio) -> None:
    twilio.slow_next(delay=3)

    result = await send(sms(twilio.url, timeout="300ms"))

    assert isinstance(result, Failed) and result.transient
    assert "timed out" in result.reason


async def test_connection_refused_is_transient() -> None:
    result = await send(sms(f"http://127.0.0.1:{unused_port()}"))

    assert isinstance(result, Failed) and result.transient
    assert DEFAULT_ACCOUNT_SID not in result.reason


async def test_missing_token_variable_is_permanent(twilio: FakeTwilio) -> None:
    result = await send(sms(twilio.url), env={"TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID})

    assert isinstance(result, Failed) and not result.transient
    assert "TWILIO_AUTH_TOKEN" in result.reason
    assert twilio.requests == []


async def test_edge_and_region_in_the_environment_do_not_move_requests(
    twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")

    result = await send(sms(twilio.url))

    assert isinstance(result, Delivered)


async def test_shared_session_stays_open(twilio: FakeTwilio) -> None:
    channel = sms(twilio.url)
    async with aiohttp.ClientSession() as http:
        sender = create_sender(channel, ENV, http=http)
        for n in range(3):
            out = make_outbound(channel, TO, subject=f"n{n}", text="")
            assert isinstance(await sender.send(out), Delivered)
        await sender.close()
        assert not http.closed

    assert [m["body"] for m in twilio.messages] == ["n0", "n1", "n2"]
