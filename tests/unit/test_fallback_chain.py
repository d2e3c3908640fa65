"""``notifierd status``: the line that shows where a dead delivery went instead."""

from __future__ import annotations

from typing import Any

from notifierd.cli.status import fallback_chains


def delivery(id_: str, channel: str, recipient: str | None, status: str, **more: Any) -> dict:  # type: ignore[type-arg]
    return {
        "id": id_,
        "channel": channel,
        "recipient": recipient,
        "status": status,
        "error": None,
        "fallback_of": None,
        "fallbacks": [],
        **more,
    }


def test_one_line_per_dead_delivery_with_every_fallback() -> None:
    deliveries = [
        delivery(
            "1",
            "ops-slack",
            "#ops",
            "dead",
            error="Slack chat.postMessage: channel_not_found (check the channel name)",
            fallbacks=["2", "3"],
        ),
        delivery("2", "ops-email", "ops@company.com", "delivered", fallback_of="1"),
        delivery("3", "pager", None, "retrying", fallback_of="1"),
        delivery("4", "audit", None, "delivered"),
    ]
    assert fallback_chains(deliveries) == [
        "ops-slack #ops → dead (Slack chat.postMessage: channel_not_found) → fallback ops-email "
        "ops@company.com: delivered; fallback pager: retrying"
    ]


def test_no_line_without_a_fallback() -> None:
    assert fallback_chains([delivery("1", "ops-slack", "#ops", "dead", error="x")]) == []


def test_a_dead_fallback_says_why() -> None:
    deliveries = [
        delivery("1", "pager", None, "dead", error="HTTP 400", fallbacks=["2"]),
        delivery(
            "2",
            "ops-email",
            "ops@company.com",
            "dead",
            error="SMTP 550 5.1.1 <ops@company.com>: Recipient address rejected",
            fallback_of="1",
        ),
    ]
    assert fallback_chains(deliveries) == [
        "pager → dead (HTTP 400) → fallback ops-email ops@company.com: dead (SMTP 550 5.1.1 "
        "<ops@company.com>: Recipient address rejected)"
    ]
