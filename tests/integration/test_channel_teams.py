"""Teams sender: Adaptive Cards to a local incoming webhook, failures classified."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from notifierd.channels import Delivered, Failed, create_sender
from tests.fakes import make_channel, make_outbound, unused_port
from tests.fakes.teams_webhook import BAD_PAYLOAD, HOOK_PATH, FakeTeamsWebhook

NOW = 1_700_000_000.0
CARD = {
    "type": "AdaptiveCard",
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "version": "1.4",
    "body": [
        {"type": "TextBlock", "text": "Deployed v2.1.0", "weight": "Bolder"},
        {"type": "FactSet", "facts": [{"title": "By", "value": "Alice"}]},
    ],
}


@pytest.fixture
async def hook() -> AsyncIterator[FakeTeamsWebhook]:
    async with FakeTeamsWebhook() as fake:
        yield fake


def teams(url: str, **settings: object):
    return make_channel(
        "eng-teams", "teams", **{"webhook_url": "${TEAMS_WEBHOOK_URL}", "timeout": "2s", **settings}
    )


async def send(url: str, env=None, channel=None, **kwargs) -> Delivered | Failed:
    channel = channel or teams(url)
    sender = create_sender(channel, {"TEAMS_WEBHOOK_URL": url} if env is None else env)
    try:
        return await sender.send(make_outbound(channel, **kwargs))
    finally:
        await sender.close()


async def test_template_card_is_delivered(hook: FakeTeamsWebhook) -> None:
    result = await send(hook.url, teams_card=CARD)

    assert isinstance(result, Delivered)
    [message] = hook.messages
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"] == CARD
    assert hook.requests[0].headers["Content-Type"] == "application/json"


async def test_fallback_card_when_the_template_has_no_teams_variant(
    hook: FakeTeamsWebhook,
) -> None:
    result = await send(hook.url)

    assert isinstance(result, Delivered)
    [card] = hook.cards
    assert card["type"] == "AdaptiveCard"
    texts = [block["text"] for block in card["body"]]
    assert texts == ["Deployment Complete: production", "Version: v2.1.0\nDeployed by: Alice"]


async def test_link_attachments_become_buttons(hook: FakeTeamsWebhook) -> None:
    request = {"attachments": [{"filename": "logs", "url": "https://ci/logs/1"}]}

    result = await send(hook.url, teams_card=CARD, request=request)

    assert isinstance(result, Delivered)
    [card] = hook.cards
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "logs", "url": "https://ci/logs/1"}
    ]
    assert "actions" not in CARD  # the rendered card itself is left alone


async def test_workflows_webhook_answers_202() -> None:
    async with FakeTeamsWebhook(workflow=True) as hook:
        result = await send(hook.url, teams_card=CARD)

    assert isinstance(result, Delivered)
    assert result.detail["status"] == 202
    assert result.provider_id and result.provider_id.startswith("08584")


async def test_bad_payload_is_permanent(hook: FakeTeamsWebhook) -> None:
    hook.fail_next(status=400, text=BAD_PAYLOAD)

    result = await send(hook.url)

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 400
    assert BAD_PAYLOAD in result.reason


async def test_card_teams_refuses_inside_a_200_is_permanent(hook: FakeTeamsWebhook) -> None:
    not_adaptive = {"type": "MessageCard", "text": "legacy"}

    result = await send(hook.url, teams_card=not_adaptive)

    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == 400
    assert "Webhook message delivery failed" in result.reason
    assert hook.messages == []


async def test_rate_limit_inside_a_200_is_transient(hook: FakeTeamsWebhook) -> None:
    hook.fail_in_body_next(429)

    result = await send(hook.url)

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == 429


async def test_429_retry_after_is_transient(hook: FakeTeamsWebhook) -> None:
    hook.rate_limit_next(retry_after=12, text="Microsoft Teams endpoint returned HTTP error 429")

    result = await send(hook.url)

    assert result == Failed(result.reason, transient=True, retry_after=12.0, status_code=429)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_are_transient(hook: FakeTeamsWebhook, status: int) -> None:
    hook.fail_next(status=status, text="Service Unavailable")

    result = await send(hook.url)

    assert isinstance(result, Failed) and result.transient
    assert result.status_code == status


@pytest.mark.parametrize("status", [403, 404, 413])
async def test_client_errors_are_permanent(hook: FakeTeamsWebhook, status: int) -> None:
    hook.fail_next(status=status, text="nope")

    result = await send(hook.url)

    assert isinstance(result, Failed) and not result.transient
    assert f"HTTP {status}" in result.reason


async def test_oversized_card_is_refused_without_a_request(hook: FakeTeamsWebhook) -> None:
    big = {**CARD, "body": [{"type": "TextBlock", "text": "x" * 40_000}]}

    result = await send(hook.url, teams_card=big)

    assert isinstance(result, Failed) and not result.transient
    assert "28 KB" in result.reason
    assert hook.requests == []


async def test_timeout_is_transient(hook: FakeTeamsWebhook) -> None:
    hook.slow_next(delay=3)

    result = await send(hook.url, channel=teams(hook.url, timeout="300ms"))

    assert isinstance(result, Failed) and result.transient
    assert "timed out" in result.reason


async def test_the_webhook_url_never_reaches_a_reason(hook: FakeTeamsWebhook) -> None:
    hook.fail_next(status=400, text=f"Bad payload for {hook.url}")
    hook.fail_in_body_next(500)
    refused = f"http://127.0.0.1:{unused_port()}{HOOK_PATH}"

    reasons = [
        (await send(hook.url)).reason,  # type: ignore[union-attr]
        (await send(hook.url)).reason,  # type: ignore[union-attr]
        (await send(refused)).reason,  # type: ignore[union-attr]
    ]

    for reason in reasons:
        assert "IncomingWebhook" not in reason
        assert "c5d60e4be2b94867abd6194bebdbcb0a" not in reason


async def test_missing_url_variable_is_permanent(hook: FakeTeamsWebhook) -> None:
    result = await send(hook.url, env={})

    assert isinstance(result, Failed) and not result.transient
    assert "TEAMS_WEBHOOK_URL" in result.reason
    assert hook.requests == []


async def test_shared_session_stays_open(hook: FakeTeamsWebhook) -> None:
    channel = teams(hook.url)
    async with aiohttp.ClientSession() as http:
        sender = create_sender(channel, {"TEAMS_WEBHOOK_URL": hook.url}, http=http)
        for n in range(3):
            assert isinstance(await sender.send(make_outbound(channel, subject=f"n{n}")), Delivered)
        await sender.close()
        assert not http.closed

    assert [c["body"][0]["text"] for c in hook.cards] == ["n0", "n1", "n2"]
