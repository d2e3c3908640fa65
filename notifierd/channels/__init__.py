"""Delivery to each channel type: one module per type, all answering Delivered or Failed."""

from notifierd.channels.base import (
    ChannelConfigError,
    Delivered,
    Failed,
    MessageUpdater,
    Outbound,
    Outcome,
    Sender,
    Senders,
    parse_retry_after,
)
from notifierd.channels.registry import SenderPool, UnsupportedSender, create_sender

__all__ = [
    "ChannelConfigError",
    "Delivered",
    "Failed",
    "MessageUpdater",
    "Outbound",
    "Outcome",
    "Sender",
    "SenderPool",
    "Senders",
    "UnsupportedSender",
    "create_sender",
    "parse_retry_after",
]
