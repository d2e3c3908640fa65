"""Ephemeral replies to a Slack button press, posted to the ``response_url`` Slack sent with it."""

from __future__ import annotations

from typing import Any

import aiohttp

# Slack's own host for response URLs: a signed request names where to answer, and nothing
# else is ever posted to, even if the signing secret leaked.
RESPONSE_URL_PREFIX = "https://hooks.slack.com/"
REPLY_TIMEOUT = 5.0  # seconds; Slack keeps a response_url valid for 30 minutes


def ephemeral(text: str) -> dict[str, Any]:
    """A message only the person who pressed sees, leaving the alert's message as it is."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


async def reply(url: object, text: str) -> str | None:
    """Post ``text`` as an ephemeral reply; None when Slack took it, otherwise why not."""
    if not isinstance(url, str) or not url.startswith(RESPONSE_URL_PREFIX):
        return f"the press carried no response_url under {RESPONSE_URL_PREFIX}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLY_TIMEOUT)) as http,
            # Never followed: a redirect could lead anywhere (SECURITY.md, redirects).
            http.post(url, json=ephemeral(text), allow_redirects=False) as resp,
        ):
            if resp.status >= 300:
                return f"Slack answered HTTP {resp.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
