"""No channel follows a redirect: a 3xx is a permanent failure naming its target, and nothing
(no credential, no body) reaches the host the redirect points at."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from notifierd.channels import Failed, create_sender
from notifierd.config.model import Channel
from tests.fakes import make_channel, make_outbound
from tests.fakes.redirector import Redirector, RedirectTarget

SLACK_TOKEN = "xoxb-redirect-test-token"
SENDGRID_KEY = "SG.redirect-test-api-key"
PD_KEY = "R0UTINGKEY0123456789abcdefabcdef"
SID, AUTH_TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-redirect-auth-token"
HOOK_SECRET = "webhook-redirect-signing-secret"


def channels(url: str) -> dict[str, tuple[Channel, str | None, dict[str, str]]]:
    """Each channel type pointed at ``url``: (channel, recipient, environment)."""
    return {
        "slack": (
            make_channel("s", "slack", token="${SLACK_TOKEN}", api_url=url + "/api/", timeout="2s"),
            "#ops",
            {"SLACK_TOKEN": SLACK_TOKEN},
        ),
        "sendgrid": (
            make_channel(
                "e",
                "email",
                transport="sendgrid",
                api_key="${SENDGRID_KEY}",
                api_url=url,
                timeout="2s",
                **{"from": "notify@example.com"},
            ),
            "ops@example.com",
            {"SENDGRID_KEY": SENDGRID_KEY},
        ),
        "teams": (
            make_channel("t", "teams", webhook_url="${TEAMS_URL}", timeout="2s"),
            None,
            {"TEAMS_URL": url + "/webhookb2/abc@def/IncomingWebhook/0123/4567"},
        ),
        "pagerduty": (
            make_channel(
                "p", "pagerduty", routing_key="${PD_KEY}", api_url=url + "/v2/enqueue", timeout="2s"
            ),
            None,
            {"PD_KEY": PD_KEY},
        ),
        "sms": (
            make_channel(
                "m",
                "sms",
                account_sid="${SID}",
                auth_token="${AUTH_TOKEN}",
                api_url=url,
                timeout="2s",
                **{"from": "+14155550100"},
            ),
            "+4915112345678",
            {"SID": SID, "AUTH_TOKEN": AUTH_TOKEN},
        ),
        "webhook": (
            make_channel("w", "webhook", url=url + "/hook", secret="${HOOK_SECRET}", timeout="2s"),
            None,
            {"HOOK_SECRET": HOOK_SECRET},
        ),
    }


@pytest.fixture
async def target() -> AsyncIterator[RedirectTarget]:
    async with RedirectTarget() as fake:
        yield fake


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("kind", ["slack", "sendgrid", "teams", "pagerduty", "sms", "webhook"])
async def test_a_redirect_is_a_permanent_failure_and_nothing_reaches_its_target(
    kind: str, status: int, target: RedirectTarget
) -> None:
    async with Redirector(target, status) as redirector:
        channel, recipient, env = channels(redirector.url)[kind]
        sender: Any = create_sender(channel, env)
        try:
            result = await sender.send(make_outbound(channel, recipient))
        finally:
            await sender.close()

    assert redirector.requests, "the sender never reached the redirecting server"
    assert target.requests == [], f"{kind} followed the redirect to {target.requests[0].path}"
    assert isinstance(result, Failed) and not result.transient
    assert result.status_code == status
    assert f"a redirect to {target.origin}" in result.reason  # the path may be redacted (Teams)
