"""Where a sign-in may lead (no open redirect), whether a form came from this site, and what
makes a request HTTPS — pure functions of the request."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from notifierd.http.session import HOME, https, safe_next, same_origin


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/ui/alerts",
        "//evil.example/ui/alerts",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/api/v1/alerts",
        "/uix",
        "/ui/../api/v1/alerts",
        "/ui/sign-in",
        "/ui/sign-out",
        "/ui/alerts\nLocation: https://evil.example",
        "/ui/" + "a" * 3000,
    ],
)
def test_anywhere_but_a_console_page_of_this_site_leads_home(target: str | None) -> None:
    assert safe_next(target) == HOME


@pytest.mark.parametrize(
    "target",
    ["/ui", "/ui/alerts", "/ui/alerts?state=open", "/ui/alerts/db-1", "/ui/deliveries?a=b#c"],
)
def test_a_console_page_is_kept(target: str) -> None:
    assert safe_next(target) == target


def test_a_form_from_another_site_is_not_same_origin() -> None:
    def request(**headers: str) -> web.Request:
        return make_mocked_request("POST", "/ui/sign-in", headers={"Host": "ops:9464", **headers})

    assert same_origin(request())  # no Origin: an old browser or a script
    assert same_origin(request(Origin="http://ops:9464"))
    assert not same_origin(request(Origin="https://evil.example"))
    assert not same_origin(request(Origin="null"))


def test_https_directly_or_through_a_proxy() -> None:
    plain = make_mocked_request("GET", "/ui/")
    proxied = make_mocked_request("GET", "/ui/", headers={"X-Forwarded-Proto": "https"})
    assert not https(plain) and https(proxied)
