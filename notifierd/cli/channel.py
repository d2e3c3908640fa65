"""``notifierd channel list | test``: the configured channels, and a real test message to one."""

from __future__ import annotations

import os
import sys
import uuid

import click

from notifierd.cli.common import config_option, load_or_exit, print_json
from notifierd.cli.services import run_async
from notifierd.cli.tables import TABLE_FORMAT, print_table


@click.group()
def channel() -> None:
    """Configured delivery channels."""


@channel.command("list")
@config_option()
@TABLE_FORMAT
def list_(config_dir: str, fmt: str) -> None:
    """Channels with their type, defaults and the environment variables they need."""
    from notifierd.config.values import env_names

    snapshot = load_or_exit(config_dir)
    rows: list[dict[str, str | list[str]]] = []
    for ch in snapshot.channels.values():
        needed = sorted(
            {n for v in ch.settings.values() if isinstance(v, str) for n in env_names(v)}
        )
        missing = [n for n in needed if n not in os.environ]
        rows.append(
            {
                "name": ch.name,
                "type": ch.type,
                "default_recipients": list(ch.default_recipients),
                "env": needed,
                "missing_env": missing,
            }
        )
    if fmt == "json":
        print_json(rows)
        return
    print_table(
        "channels",
        ["name", "type", "default recipients", "environment", "missing"],
        [
            [
                ch.name,
                ch.type,
                ", ".join(ch.default_recipients) or "-",
                ", ".join(row["env"]) or "-",
                ", ".join(row["missing_env"]) or "-",
            ]
            for ch, row in zip(snapshot.channels.values(), rows, strict=True)
        ],
    )


@channel.command()
@click.argument("name")
@config_option()
@click.option("--recipient", help="Where to send it (default: the channel's default recipients).")
@click.option("--message", default="This is a test message from notifierd.", show_default=True)
def test(name: str, config_dir: str, recipient: str | None, message: str) -> None:
    """Send a real test message through channel NAME and report what the service answered."""
    from notifierd.channels.base import Delivered, Outbound
    from notifierd.channels.registry import create_sender
    from notifierd.config.recipients import fits
    from notifierd.request import Request
    from notifierd.templates import render_plain

    snapshot = load_or_exit(config_dir)
    ch = snapshot.channels.get(name)
    if ch is None:
        click.echo(
            f"error: no channel {name!r}; channels: {', '.join(snapshot.channels)}", err=True
        )
        sys.exit(2)
    targets: list[str | None]
    if ch.targeted:
        targets = [None]
    elif recipient:
        address = fits(ch, recipient)
        if address is None:
            click.echo(
                f"error: recipient {recipient!r} does not fit {ch.type} channel {name!r}", err=True
            )
            sys.exit(2)
        targets = [address]
    else:
        targets = [fits(ch, r) or r for r in ch.default_recipients] or [None]
    request = Request.from_dict(
        {
            "id": f"channel-test-{uuid.uuid4()}",
            "title": f"notifierd test: {name}",
            "message": message,
            "source": "notifierd channel test",
        }
    )
    rendered = render_plain(request, ch.type)

    async def main() -> list[tuple[str | None, object]]:
        sender = create_sender(ch)
        try:
            return [
                (t, await sender.send(Outbound(str(uuid.uuid4()), request, ch, t, rendered)))
                for t in targets
            ]
        finally:
            await sender.close()

    failed = False
    for target, result in run_async(main()):
        where = target or "its configured target"
        if isinstance(result, Delivered):
            click.echo(
                f"ok: delivered to {where}"
                + (f" (id {result.provider_id})" if result.provider_id else "")
            )
        else:
            failed = True
            kind = "transient" if getattr(result, "transient", False) else "permanent"
            click.echo(f"failed ({kind}): {where}: {getattr(result, 'reason', result)}")
    sys.exit(1 if failed else 0)
