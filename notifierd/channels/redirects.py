"""No channel client follows a redirect: a 3xx is a permanent failure naming where it pointed.

A redirected request carries the channel's credentials (an ``Authorization`` header, a body
with a routing key) to whatever host the ``Location`` names, and the libraries disagree on what
they forward. aiohttp requests pass ``allow_redirects=False`` where they are made; of the two
clients that make their own requests, the Slack SDK's (over our aiohttp session) is wrapped
here, and SendGrid's (urllib, which forwards every header but the content ones) in its channel's
module, ``email.py``, so that only a daemon with a SendGrid channel loads its client library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
