"""Where ``--http`` listens and whether it may start there: the address, loopback, credentials."""

from __future__ import annotations

import pytest

from notifierd.http.auth import credentials_configured, protected
from notifierd.http.exposure import Exposure, ListenerRefused, exposure, is_loopback
from notifierd.http.listener import parse_address


@pytest.mark.parametrize(
    "text,expected",
    [
        ("127.0.0.1:9090", ("127.0.0.1", 9090)),
        (":9090", ("127.0.0.1", 9090)),  # a port alone serves this machine only
        ("9090", ("127.0.0.1", 9090)),
        ("0.0.0.0:9090", ("0.0.0.0", 9090)),  # every interface, because it says so
        ("[::]:9090", ("::", 9090)),
        ("[::1]:0", ("::1", 0)),
        ("localhost:80", ("localhost", 80)),
    ],
)
def test_parse_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:http", "::1:80", "h:70000", "[x]:1"])
def test_parse_address_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address(text)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


# A name other than localhost may resolve to anything: it counts as reachable from outside.
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.org", ""])
def test_hosts_other_machines_may_reach(host: str) -> None:
    assert not is_loopback(host)


def test_credentials_are_the_api_token() -> None:
    assert credentials_configured({"NOTIFIERD_API_TOKEN": "t0ken"})
    assert not credentials_configured({"NOTIFIERD_API_TOKEN": ""})
    assert not credentials_configured({})


def test_with_credentials_any_address_is_protected() -> None:
    assert exposure("0.0.0.0", 9464, credentials=True) is Exposure.PROTECTED
    assert exposure("127.0.0.1", 9464, credentials=True) is Exposure.PROTECTED


def test_loopback_without_credentials_is_open_locally() -> None:
    assert exposure("127.0.0.1", 9464, credentials=False) is Exposure.LOCAL
    assert exposure("::1", 9464, credentials=False, insecure_no_auth=True) is Exposure.LOCAL


@pytest.mark.parametrize("host,shown", [("0.0.0.0", "0.0.0.0:9464"), ("::", "[::]:9464")])
def test_the_network_without_credentials_is_refused(host: str, shown: str) -> None:
    with pytest.raises(ListenerRefused) as refused:
        exposure(host, 9464, credentials=False)
    message = str(refused.value)
    assert "\n" not in message
    assert f"refusing to serve the API on {shown} without credentials" in message
    for remedy in ("NOTIFIERD_API_TOKEN", "--http 127.0.0.1:9464", "--insecure-no-auth"):
        assert remedy in message


def test_the_loud_flag_opens_the_network() -> None:
    assert exposure("0.0.0.0", 9464, credentials=False, insecure_no_auth=True) is Exposure.INSECURE


def test_private_metrics_need_credentials() -> None:
    with pytest.raises(ListenerRefused, match="--private-metrics needs credentials"):
        exposure("127.0.0.1", 9464, credentials=False, private_metrics=True)
    assert exposure("0.0.0.0", 1, credentials=True, private_metrics=True) is Exposure.PROTECTED


def test_metrics_are_protected_only_when_private() -> None:
    assert protected("/api/v1/notify") and protected("/-/reload")
    assert not protected("/metrics")
    assert protected("/metrics", private_metrics=True)
    for probe in ("/healthz", "/readyz"):
        assert not protected(probe, private_metrics=True)
