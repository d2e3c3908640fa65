"""The optional HTTP listener (``run --http HOST:PORT``): health, metrics, reload, API, Slack."""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from notifierd.http.backend import Backend

log = logging.getLogger("notifierd.http")


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9090`` for IPv6, ``:9090`` for every interface) → (host, port)."""
    usage = f"--http expects HOST:PORT, e.g. 127.0.0.1:9090 or [::1]:9090; got {text!r}"
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(usage)
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"{usage}: the port must be 0-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{usage}: {host!r} is not an IPv6 address") from None
    elif ":" in host:  # an IPv6 address without brackets cannot be told apart from its port
        raise ValueError(f"{usage}: write an IPv6 host in brackets, e.g. [::1]:9090")
    return host or "0.0.0.0", port


async def start_http(backend: Backend, address: str) -> web.AppRunner:
    """Serve the routes on ``address`` for ``backend`` (the daemon); the caller cleans up the
    returned runner."""
    from notifierd.http.app import build_app

    host, port = parse_address(address)
    # access_log off: scrapes and probes every few seconds would drown the daemon's own log.
    runner = web.AppRunner(build_app(backend), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(exc.errno, f"cannot listen on {address} (--http): {exc.strerror}") from None
    log.info(
        "HTTP listening on %s",
        ", ".join(f"http://[{h}]:{p}" if ":" in h else f"http://{h}:{p}" for h, p in bound(runner)),
        extra={"event": "http_started"},
    )
    return runner


def bound(runner: web.AppRunner) -> list[tuple[str, int]]:
    """The (host, port) pairs the runner listens on: how to learn the port when it was 0."""
    return [(str(a[0]), int(a[1])) for a in runner.addresses]
