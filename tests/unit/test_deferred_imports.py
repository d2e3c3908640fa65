"""Validate imports slack_sdk's block models and APScheduler's cron trigger without running either
package's ``__init__``; a process that goes on to need the whole package (the daemon's Slack
channel, its escalation scheduler) still gets it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Each probe runs in a fresh interpreter: which modules are loaded is the point.
_SLACK_PROBE = """
import sys
from notifierd.templates.slack import validate_blocks
print(validate_blocks([{"type": "divider"}, {"type": "header", "text": {"type": "mrkdwn"}}]))
print("slack_sdk.web" in sys.modules)
from slack_sdk import WebClient
from slack_sdk.web.async_client import AsyncWebClient
import slack_sdk
import notifierd.channels.slack
print(WebClient is slack_sdk.WebClient, slack_sdk.WebhookClient.__module__, AsyncWebClient.__name__)
"""

_APSCHEDULER_PROBE = """
import sys
from datetime import UTC, datetime
from notifierd.config.cron import parse_cron
print(parse_cron("0 2 * * SAT", "Europe/Berlin").next_fire(datetime(2026, 11, 30, tzinfo=UTC)))
import apscheduler
print("version_info" in vars(apscheduler))
from apscheduler.schedulers.asyncio import AsyncIOScheduler
import notifierd.alerts.escalator
print(apscheduler.version_info >= (3,), AsyncIOScheduler.__name__)
"""


def _run(probe: str, cwd: Path) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,  # not a checkout: the notifierd under test is the one imported
    ).stdout.splitlines()


def test_the_block_check_leaves_slack_sdk_whole_for_the_channel(tmp_path: Path) -> None:
    out = _run(_SLACK_PROBE, tmp_path)
    assert "header.text must be plain_text" in out[0]
    assert out[1:] == ["False", "True slack_sdk.webhook.client AsyncWebClient"]


def test_cron_leaves_apscheduler_whole_for_the_escalator(tmp_path: Path) -> None:
    out = _run(_APSCHEDULER_PROBE, tmp_path)
    assert out == ["2026-12-05 01:00:00+00:00", "False", "True AsyncIOScheduler"]
