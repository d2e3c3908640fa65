"""Who can reach the HTTP listener, and whether it may start that way (fail closed)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from notifierd.http.auth import CREDENTIALS_HINT

INSECURE_FLAG = "--insecure-no-auth"
PRIVATE_METRICS_FLAG = "--private-metrics"


class Exposure(StrEnum):
    PROTECTED = "protected"  # credentials configured: the API asks for them
    LOCAL = "local"  # loopback without credentials: open to the processes of this machine
    INSECURE = "insecure"  # beyond loopback without credentials, as --insecure-no-auth asked


class ListenerRefused(ValueError):
    """Starting the listener as asked would leave the API open to the network."""


def is_loopback(host: str) -> bool:
    """A loopback address, or the name ``localhost``. Any other name may resolve to an address
    other machines reach, so it does not count (fail closed)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(
    host: str,
    port: int,
    *,
    credentials: bool,
    insecure_no_auth: bool = False,
    private_metrics: bool = False,
) -> Exposure:
    """How open a listener on ``host`` would be; ListenerRefused (one line saying why and what
    to do) when it must not start."""
    if credentials:
        return Exposure.PROTECTED
    if private_metrics:  # asked for a guard that has nothing to check against
        raise ListenerRefused(
            f"{PRIVATE_METRICS_FLAG} needs credentials to ask for: {CREDENTIALS_HINT}"
        )
    if is_loopback(host):
        return Exposure.LOCAL
    if insecure_no_auth:
        return Exposure.INSECURE
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    raise ListenerRefused(
        f"refusing to serve the API on {where} without credentials: {CREDENTIALS_HINT}, "
        f"or listen on loopback (--http 127.0.0.1:{port}), "
        f"or pass {INSECURE_FLAG} to leave it open to anyone who can reach it"
    )
