"""A careless provider: refuses every request and repeats what it got in its error body."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.http import FakeHTTPServer


class EchoingAPI(FakeHTTPServer):
    """Answers every request ``status`` (400: permanent for every channel) with a JSON error
    that each provider's client reads into its reason: Slack's ``error``, SendGrid's
    ``errors[].message``, PagerDuty's ``message``, Twilio's ``message``, and the raw text for
    Teams and webhooks. The echo is what the request carried: its credentials, its URL (path and
    query) and the start of its body."""

    def __init__(self, status: int = 400) -> None:
        super().__init__()
        self.status = status

    def setup(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._refuse)

    async def _refuse(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = (raw[:100] + b" ... " + raw[-100:]).decode("utf-8", "replace")
        echo = (
            f"you sent Authorization={request.headers.get('Authorization', '-')} "
            f"to {request.path_qs} with {body}"
        )
        answer = {
            "ok": False,
            "error": echo,
            "errors": [{"message": echo, "field": None}],
            "message": echo,
            "code": 21211,
            "status": self.status,
        }
        return web.json_response(answer, status=self.status)
