"""The rendered message and what each channel type gets when a template has no variant for it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from notifierd.config.model import CHANNEL_TYPES
from notifierd.request import Request
from notifierd.templates.markup import slack_escape, teams_escape
from notifierd.valueclass import value_class

# Limits of the receiving APIs; going over them gets the whole message refused.
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_MAX_BLOCKS = 50
PAGERDUTY_SUMMARY_MAX = 1024
SMS_MAX = 1600  # Twilio's limit for one message body
ADAPTIVE_CARD_VERSION = "1.4"

# The variants each channel type can use; None means "every channel type".
VARIANTS_FOR: dict[str | None, frozenset[str]] = {
    None: frozenset({"slack", "html", "teams"}),
    "slack": frozenset({"slack"}),
    "email": frozenset({"html"}),
    "teams": frozenset({"teams"}),
    "pagerduty": frozenset(),
    "webhook": frozenset(),
    "sms": frozenset(),
}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _split(text: str, limit: int) -> list[str]:
    """Chunks of at most ``limit`` characters, broken at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a chunk: hard cut
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def slack_fallback_blocks(
    subject: str, text: str, *, max_blocks: int = SLACK_MAX_BLOCKS
) -> list[dict[str, Any]]:
    """A header with the subject and the text below it, in as many sections as it needs."""
    blocks: list[dict[str, Any]] = []
    if subject.strip():
        header = {"type": "plain_text", "text": truncate(subject, SLACK_HEADER_MAX), "emoji": True}
        blocks.append({"type": "header", "text": header})
    room = max_blocks - len(blocks)
    chunks = _split(slack_escape(text), SLACK_SECTION_MAX)
    if len(chunks) > room:
        chunks = [*chunks[: room - 1], truncate(chunks[room - 1], SLACK_SECTION_MAX - 2) + "\n…"]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]
    return blocks


def slack_alert_actions(alert_ref: str, title: str) -> dict[str, Any]:
    """Acknowledge, Escalate and Resolve buttons for an alert's Slack message. ``alert_ref`` is
    the id of the request that sent it (the alert's, or an escalation step's); the interactions
    endpoint (notifierd/http/slack.py) finds the alert from either."""
    named = slack_escape(truncate(title, 200))
    return {
        "type": "actions",
        "block_id": "notifierd_alert_actions",
        "elements": [
            {
                "type": "button",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "action_id": "notifierd_ack",
                "value": alert_ref,
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Escalate"},
                "action_id": "notifierd_escalate",
                "value": alert_ref,
                # It pages the next level: asked twice, so a stray click wakes nobody.
                "confirm": {
                    "title": {"type": "plain_text", "text": "Escalate this alert now?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"This pages the next escalation level for *{named}* now.",
                    },
                    "confirm": {"type": "plain_text", "text": "Escalate"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
            {
                "type": "button",
                "style": "danger",
                "text": {"type": "plain_text", "text": "Resolve"},
                "action_id": "notifierd_resolve",
                "value": alert_ref,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Resolve this alert?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"This stops escalation for *{named}*.",
                    },
                    "confirm": {"type": "plain_text", "text": "Resolve"},
                    "deny": {"type": "plain_text", "text": "Cancel"},
                },
            },
        ],
    }


def teams_fallback_card(subject: str, text: str) -> dict[str, Any]:
    """An Adaptive Card titled with the subject, the text below it (both plain: escaped)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": teams_escape(subject),
            "weight": "Bolder",
            "size": "Medium",
            "style": "heading",
            "wrap": True,
        }
    ]
    if text:
        body.append({"type": "TextBlock", "text": teams_escape(text), "wrap": True})
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
    }


@value_class
class RenderedMessage:
    """What one delivery sends; the fields a channel type does not use are None."""

    subject: str
    text: str
    slack_blocks: list[dict[str, Any]] | None = None
    html: str | None = None
    teams_card: dict[str, Any] | None = None
    template: str | None = None  # "name@version", None when rendered from title + message
    channel_type: str | None = None  # rendered for this channel type; None: for all of them
    variants: tuple[str, ...] = ()  # the template variants used ("slack", "html", "teams")
    # A Slack member id the Slack sender mentions (``<@U…>``): the person a schedule
    # delivery paged (notifierd/pipeline/oncall.py).
    mention: str | None = None

    @property
    def summary(self) -> str:
        """PagerDuty's summary: the subject, cut to the Events API limit."""
        return truncate(self.subject or self.text.split("\n", 1)[0], PAGERDUTY_SUMMARY_MAX)

    @property
    def sms_text(self) -> str:
        """The subject and as much of the text as fits in one SMS body."""
        body = f"{self.subject}\n{self.text}" if self.text else self.subject
        return truncate(body, SMS_MAX)

    def for_channel(self, channel_type: str) -> dict[str, Any]:
        """The content a channel of ``channel_type`` receives (before its own envelope)."""
        if channel_type == "slack":
            blocks = self.slack_blocks
            if blocks is None:
                blocks = slack_fallback_blocks(self.subject, self.text)
            # ``text`` is what Slack shows in notifications and where blocks cannot render;
            # Slack reads it as mrkdwn, and subject and text are plain.
            preview = slack_escape(self.subject or self.text)
            return {"text": truncate(preview, 3000), "blocks": blocks}
        if channel_type == "email":
            content: dict[str, Any] = {"subject": self.subject, "text": self.text}
            if self.html is not None:
                content["html"] = self.html
            return content
        if channel_type == "teams":
            card = self.teams_card or teams_fallback_card(self.subject, self.text)
            return {"card": card}
        if channel_type == "pagerduty":
            return {"summary": self.summary, "details": self.text}
        if channel_type == "webhook":
            return {"subject": self.subject, "text": self.text, "template": self.template}
        if channel_type == "sms":
            return {"text": self.sms_text}
        raise ValueError(
            f"unknown channel type {channel_type!r}; one of {', '.join(CHANNEL_TYPES)}"
        )


def check_channel_type(channel_type: str | None) -> None:
    if channel_type not in VARIANTS_FOR:
        raise ValueError(
            f"unknown channel type {channel_type!r}; one of {', '.join(CHANNEL_TYPES)}"
        )


def build_message(
    subject: str,
    text: str,
    channel_type: str | None,
    *,
    slack_blocks: list[dict[str, Any]] | None = None,
    html: str | None = None,
    teams_card: dict[str, Any] | None = None,
    template: str | None = None,
) -> RenderedMessage:
    """The message for ``channel_type``, filling in the fallbacks for missing variants."""
    check_channel_type(channel_type)
    variants = tuple(
        name
        for name, value in (("slack", slack_blocks), ("html", html), ("teams", teams_card))
        if value is not None
    )
    wants = VARIANTS_FOR[channel_type]
    if "slack" in wants and slack_blocks is None:
        slack_blocks = slack_fallback_blocks(subject, text)
    if "teams" in wants and teams_card is None:
        teams_card = teams_fallback_card(subject, text)
    return RenderedMessage(
        subject=subject,
        text=text,
        slack_blocks=slack_blocks if "slack" in wants else None,
        html=html if "html" in wants else None,
        teams_card=teams_card if "teams" in wants else None,
        template=template,
        channel_type=channel_type,
        variants=tuple(v for v in variants if v in wants),
    )


def render_plain(request: Request, channel_type: str | None = None) -> RenderedMessage:
    """The message for a request without a template (or whose route template failed)."""
    message = (request.message or "").strip()
    subject = (request.title or "").strip()
    if not subject:
        first_line = message.split("\n", 1)[0]
        subject = (
            truncate(first_line, SLACK_HEADER_MAX) if first_line else f"{request.kind} {request.id}"
        )
    if not message and request.context:
        # Nothing else to show: the context is better than an empty body.
        message = json.dumps(dict(request.context), indent=2, sort_keys=True, default=str)
    built = build_message(" ".join(subject.split()), message, channel_type)
    if built.slack_blocks is not None and request.kind == "alert" and request.action == "trigger":
        # Without a template an alert still gets the buttons on-call acknowledges it with.
        blocks = slack_fallback_blocks(built.subject, built.text, max_blocks=SLACK_MAX_BLOCKS - 1)
        blocks.append(slack_alert_actions(request.id, built.subject))
        built = replace(built, slack_blocks=blocks)
    return built
