"""Which sender delivers for a channel type, and a pool of one sender per channel."""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from notifierd.channels.base import (
    ChannelConfigError,
    Clock,
    Delivered,
    Failed,
    Outbound,
    Sender,
)
from notifierd.config.model import Channel

if TYPE_CHECKING:  # a type only: a daemon whose channels post without aiohttp never loads it
    import aiohttp

# channel type -> module with ``create_sender(channel, environ, *, http, clock) -> Sender``.
# A new channel type is one new module and one line here. Imported lazily: slack_sdk and
# sendgrid cost import time that a daemon without such channels should not pay.
SENDER_MODULES: dict[str, str] = {
    "slack": "notifierd.channels.slack",
    "email": "notifierd.channels.email",
    "webhook": "notifierd.channels.webhook",
    "pagerduty": "notifierd.channels.pagerduty",
    "teams": "notifierd.channels.teams",
    "sms": "notifierd.channels.sms",
}

# Channel types whose provider rate-limits each recipient (Slack: each conversation) rather than
# the channel's one target; a 429 then slows only that recipient's deliveries.
PACED_PER_RECIPIENT = frozenset({"slack"})


def pace_bucket(channel: Channel, recipient: str | None) -> str:
    """What a provider's rate limit (a 429) applies to, for pacing the deliveries after it."""
    if channel.type in PACED_PER_RECIPIENT and recipient:
        return f"{channel.name}\0{recipient}"
    return channel.name


class UnsupportedSender:
    """Answers every delivery with the same permanent failure (unknown type, bad settings)."""

    def __init__(self, channel: Channel, reason: str) -> None:
        self.channel = channel
        self.reason = reason

    async def send(self, out: Outbound) -> Delivered | Failed:
        return Failed(self.reason, transient=False)

    async def close(self) -> None:
        return None


def create_sender(
    channel: Channel,
    environ: Mapping[str, str] | None = None,
    *,
    http: aiohttp.ClientSession | None = None,
    clock: Clock = time.time,
) -> Sender:
    """The sender for ``channel``; never raises: a channel that cannot work gets a sender
    whose every delivery fails permanently with the reason (e.g. the missing variable)."""
    env = os.environ if environ is None else environ
    module_name = SENDER_MODULES.get(channel.type)
    if module_name is None:
        return UnsupportedSender(
            channel,
            f"channel {channel.name!r}: delivery to {channel.type!r} channels is not "
            f"available yet (supported: {', '.join(sorted(SENDER_MODULES))})",
        )
    try:
        module = importlib.import_module(module_name)
        sender: Sender = module.create_sender(channel, env, http=http, clock=clock)
    except ChannelConfigError as exc:
        return UnsupportedSender(channel, str(exc))
    return sender


SenderFactory = Callable[..., Sender]
# A replaced sender may still be sending for callers that took it with get(): close it later.
RETIRE_GRACE = 120.0


class SenderPool:
    """One sender per channel name, created on first use and closed together.

    A reload that changes a channel's settings gets a new sender on the next delivery; the old
    one is closed after a grace period, so deliveries already under way finish with it.
    """

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        http: aiohttp.ClientSession | None = None,
        factory: SenderFactory = create_sender,
        clock: Clock = time.time,
        retire_grace: float = RETIRE_GRACE,
    ) -> None:
        self._environ = environ
        self._http = http
        self._factory = factory
        self._clock = clock
        self._retire_grace = retire_grace
        self._senders: dict[str, tuple[Channel, Sender]] = {}
        self._retired: dict[asyncio.Task[Any], Sender] = {}

    def get(self, channel: Channel) -> Sender:
        """The sender for ``channel`` (a new one when its settings changed since the last)."""
        known = self._senders.get(channel.name)
        if known is not None and known[0] == channel:
            return known[1]
        if known is not None:
            self._retire(known[1])
        sender = self._factory(channel, self._environ, http=self._http, clock=self._clock)
        self._senders[channel.name] = (channel, sender)
        return sender

    async def send(self, out: Outbound) -> Delivered | Failed:
        """Deliver through the channel's sender; never raises for a delivery problem."""
        try:
            return await self.get(out.channel).send(out)
        except Exception as exc:  # a sender bug must not take the pipeline down: retry it
            return Failed(f"{out.channel.type} sender error: {type(exc).__name__}: {exc}", True)

    def _retire(self, sender: Sender) -> None:
        async def close_later() -> None:
            await asyncio.sleep(self._retire_grace)
            await sender.close()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retired[task] = sender
        task.add_done_callback(lambda t: self._retired.pop(t, None))

    def __len__(self) -> int:
        return len(self._senders)

    async def close(self) -> None:
        """Close every sender, retired ones included."""
        senders = [sender for _, sender in self._senders.values()]
        self._senders.clear()
        for task, sender in list(self._retired.items()):
            task.cancel()
            senders.append(sender)
        self._retired.clear()
        await asyncio.gather(*(s.close() for s in senders), return_exceptions=True)

    async def __aenter__(self) -> SenderPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
