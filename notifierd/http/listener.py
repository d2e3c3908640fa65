"""Starting the optional HTTP listener (``run --http HOST:PORT``): its address, whether it may
open, and the aiohttp runner that serves health, metrics, reload, the API and Slack."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from notifierd.http.auth import TOKEN_ENV, credentials_configured
from notifierd.http.connections import (
    DEFAULT_LIMITS,
    ConnectionLimits,
    Connections,
    GuardedSite,
    listener_share,
)
from notifierd.http.exposure import INSECURE_FLAG, Exposure, exposure
from notifierd.http.session import DEFAULT_SESSIONS, SessionSettings
from notifierd.principals import Principals

if TYPE_CHECKING:
    from notifierd.http.backend import Backend

log = logging.getLogger("notifierd.http")

DEFAULT_HOST = "127.0.0.1"  # a port alone serves this machine; other interfaces are named


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9090`` for IPv6; ``:9090`` or ``9090`` for loopback) → (host, port).

    Every interface is asked for by name: ``0.0.0.0:9090``, ``[::]:9090``."""
    usage = (
        f"--http expects HOST:PORT or PORT, e.g. 127.0.0.1:9090, [::1]:9090 or 9090; got {text!r}"
    )
    host, _, port_text = text.strip().rpartition(":")
    if not (port_text.isascii() and port_text.isdigit()):
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
    return host or DEFAULT_HOST, port


def check_listener(
    address: str,
    *,
    principals: Principals | None = None,
    insecure_no_auth: bool = False,
    private_metrics: bool = False,
) -> Exposure:
    """How open the listener on ``address`` would be with this process's credentials (the
    environment's, and ``principals``' from the config); ValueError for a bad address,
    ListenerRefused when it must not start."""
    host, port = parse_address(address)
    return exposure(
        host,
        port,
        credentials=credentials_configured(os.environ, principals),
        insecure_no_auth=insecure_no_auth,
        private_metrics=private_metrics,
    )


async def start_http(
    backend: Backend,
    address: str,
    *,
    insecure_no_auth: bool = False,
    private_metrics: bool = False,
    limits: ConnectionLimits = DEFAULT_LIMITS,
    extend: Callable[[web.Application], None] | None = None,
    sessions: SessionSettings = DEFAULT_SESSIONS,
) -> web.AppRunner:
    """Serve the routes on ``address`` for ``backend`` (the daemon); the caller cleans up the
    returned runner. Refuses (ListenerRefused) to serve the API to the network without
    credentials unless ``insecure_no_auth``. ``limits``: how long clients may take and how
    many connections are held (the file-descriptor budget may lower the cap); ``extend``: adds
    routes served behind the same middlewares (the web console); ``sessions``: how long the
    console's sign-in sessions last."""
    from notifierd.http.app import build_app

    host, port = parse_address(address)
    opened = check_listener(
        address,
        principals=backend.principals(),
        insecure_no_auth=insecure_no_auth,
        private_metrics=private_metrics,
    )
    app = build_app(
        backend,
        private_metrics=private_metrics,
        open_without_credentials=opened is not Exposure.PROTECTED,
        body_timeout=limits.body_timeout,
        sessions=sessions,
    )
    if extend is not None:
        extend(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    connections = Connections(listener_share(limits))
    try:
        await GuardedSite(runner, host, port, connections, limits).start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(exc.errno, f"cannot listen on {address} (--http): {exc.strerror}") from None
    log.info(
        "HTTP listening on %s",
        ", ".join(f"http://[{h}]:{p}" if ":" in h else f"http://{h}:{p}" for h, p in bound(runner)),
        extra={"event": "http_started"},
    )
    if opened is Exposure.LOCAL:
        log.info(
            "the API is open to local processes only (loopback, no %s)",
            TOKEN_ENV,
            extra={"event": "http_open_locally"},
        )
    elif opened is Exposure.INSECURE:
        log.warning(
            "%s: the API (notify, acknowledge, resolve, reload) is open to anyone who can reach "
            "this address; set %s",
            INSECURE_FLAG,
            TOKEN_ENV,
            extra={"event": "http_insecure"},
        )
    return runner


def bound(runner: web.AppRunner) -> list[tuple[str, int]]:
    """The (host, port) pairs the runner listens on: how to learn the port when it was 0."""
    return [(str(a[0]), int(a[1])) for a in runner.addresses]
