"""No channel client follows a redirect: a 3xx is a permanent failure naming where it pointed.

A redirected request carries the channel's credentials (an ``Authorization`` header, a body
with a routing key) to whatever host the ``Location`` names, and the libraries disagree on what
they forward. aiohttp requests pass ``allow_redirects=False`` where they are made; the two
clients that make their own requests are wrapped here: the Slack SDK's (over our aiohttp
session) and SendGrid's (urllib, which forwards every header but the content ones).
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING, Any

import python_http_client

if TYPE_CHECKING:
    from notifierd.channels.base import HttpSession


def is_redirect(status: int) -> bool:
    return 300 <= status < 400


def redirect_note(location: str | None) -> str:
    """What a reason says of a redirect (the caller redacts it with the rest of the reason:
    a Location can carry a token)."""
    target = f" to {location.strip()}" if location and location.strip() else ""
    return f" (a redirect{target}; redirects are not followed: configure the final URL)"


class NoRedirectSession:
    """What the Slack SDK is given as its aiohttp session: every request it makes (API calls and
    file uploads) goes through our session with redirects refused.

    It is never closed, so the SDK never makes a session of its own (which would follow
    redirects); our ``HttpSession`` reopens one when the shared session is gone.
    """

    closed = False

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._http.get().request(method, url, **{**kwargs, "allow_redirects": False})


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handler with every redirect refused: the 3xx then raises HTTPError."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


class NoRedirectClient(python_http_client.Client):  # type: ignore[misc]
    """python_http_client's client (what SendGrid's library calls) over an opener that refuses
    redirects; the clients it builds for each path segment are of this class too."""

    def _build_client(self, name: str | None = None) -> NoRedirectClient:
        url_path = [*self._url_path, name] if name else self._url_path
        return NoRedirectClient(
            host=self.host,
            version=self._version,
            request_headers=self.request_headers,
            url_path=url_path,
            append_slash=self.append_slash,
            timeout=self.timeout,
        )

    def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> Any:
        return super()._make_request(_NO_REDIRECTS, request, timeout)
